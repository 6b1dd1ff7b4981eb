//! DiscoverInputSchema: infers an input schema from a sample of a stream's records.
//!
//! Inference (record format, column names, SQL types) belongs to the mapping
//! (`mapping::infer`), which does not exist yet; until it does, the operation is refused
//! with a clear InvalidArgument rather than answering a made-up schema.

use rheo_protocol::analytics::model::{DiscoverInputSchemaRequest, DiscoverInputSchemaResponse};

use crate::error::{AnalyticsError, Result};
use crate::service::Analytics;

/// DiscoverInputSchema.
pub(crate) async fn discover(
    analytics: &Analytics,
    request: DiscoverInputSchemaRequest,
) -> Result<DiscoverInputSchemaResponse> {
    let _ = (analytics, request);
    Err(AnalyticsError::InvalidArgument(
        "DiscoverInputSchema is not supported by Rheo yet; give the InputSchema explicitly".into(),
    ))
}
