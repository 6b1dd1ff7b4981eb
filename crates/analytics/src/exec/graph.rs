//! The plan as the executor runs it: each pump is a chain of stages, innermost subquery
//! first, reading one stream; each stream knows the pumps that read it.

use crate::exec::tumbling::AggregateStage;
use crate::plan::{AppPlan, Expr, PumpPlan, Query, QueryShape, Source, StreamId};

pub(crate) enum StageKind {
    Project(Vec<Expr>),
    Aggregate(Box<AggregateStage>),
}

pub(crate) struct Stage {
    pub(crate) filter: Option<Expr>,
    pub(crate) kind: StageKind,
}

pub(crate) struct Pump {
    pub(crate) name: String,
    pub(crate) target: StreamId,
    pub(crate) target_columns: Vec<usize>,
    pub(crate) stages: Vec<Stage>,
}

pub(crate) struct Graph {
    pub(crate) pumps: Vec<Pump>,
    /// For each stream, the pumps reading it, in code order.
    pub(crate) readers: Vec<Vec<usize>>,
}

impl Graph {
    pub(crate) fn new(plan: &AppPlan) -> Graph {
        let mut readers = vec![Vec::new(); plan.streams.len()];
        let mut pumps = Vec::with_capacity(plan.pumps.len());
        for (index, pump) in plan.pumps.iter().enumerate() {
            let (source, stages) = stages_of(pump);
            if let Some(readers) = readers.get_mut(source) {
                readers.push(index);
            }
            pumps.push(Pump {
                name: pump.name.clone(),
                target: pump.target,
                target_columns: pump.target_columns.clone(),
                stages,
            });
        }
        Graph { pumps, readers }
    }
}

/// The stream a pump reads and its stages, innermost query first.
fn stages_of(pump: &PumpPlan) -> (StreamId, Vec<Stage>) {
    let mut queries: Vec<&Query> = vec![&pump.query];
    let mut source = &pump.query.source;
    let stream = loop {
        match source {
            Source::Stream(stream) => break *stream,
            Source::Subquery(inner) => {
                queries.push(inner);
                source = &inner.source;
            }
        }
    };
    let stages = queries
        .into_iter()
        .rev()
        .map(|query| Stage {
            filter: query.filter.clone(),
            kind: match &query.shape {
                QueryShape::Project(exprs) => StageKind::Project(exprs.clone()),
                QueryShape::Aggregate(aggregate) => {
                    StageKind::Aggregate(Box::new(AggregateStage::new(aggregate.clone())))
                }
            },
        })
        .collect();
    (stream, stages)
}
