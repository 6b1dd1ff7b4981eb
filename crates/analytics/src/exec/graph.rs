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
    /// How many pumps a row passes before reaching this one (0: it reads an input or
    /// `error_stream`): windows ending at the same time close upstream first.
    pub(crate) rank: usize,
    pub(crate) target: StreamId,
    pub(crate) target_columns: Vec<usize>,
    /// The output row is the target's row as it is (every column, in order): values are
    /// fitted in place, without a second row.
    pub(crate) fills_target_in_order: bool,
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
        let sources: Vec<StreamId> = plan.pumps.iter().map(|pump| stages_of(pump).0).collect();
        let ranks = ranks(plan, &sources);
        for (index, pump) in plan.pumps.iter().enumerate() {
            let (source, stages) = stages_of(pump);
            if let Some(readers) = readers.get_mut(source) {
                readers.push(index);
            }
            pumps.push(Pump {
                name: pump.name.clone(),
                rank: ranks.get(index).copied().unwrap_or(0),
                target: pump.target,
                target_columns: pump.target_columns.clone(),
                fills_target_in_order: plan.streams.get(pump.target).is_some_and(|target| {
                    target.columns.len() == pump.target_columns.len()
                        && pump.target_columns.iter().enumerate().all(|(index, column)| index == *column)
                }),
                stages,
            });
        }
        Graph { pumps, readers }
    }
}

/// Each pump's longest chain of pumps upstream. Relaxed at most once per pump, so a cycle
/// (which the compiler should refuse) cannot loop.
fn ranks(plan: &AppPlan, sources: &[StreamId]) -> Vec<usize> {
    let mut ranks = vec![0; plan.pumps.len()];
    for _ in 0..plan.pumps.len() {
        let mut changed = false;
        for (reader, source) in sources.iter().enumerate() {
            for (writer, pump) in plan.pumps.iter().enumerate() {
                if pump.target == *source && ranks[reader] < ranks[writer] + 1 && ranks[writer] < plan.pumps.len() {
                    ranks[reader] = ranks[writer] + 1;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    ranks
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
