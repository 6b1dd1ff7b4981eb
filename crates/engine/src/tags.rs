//! Tag rules shared by streams and consumers: AWS's characters and the per-resource count.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{EngineError, Result};
use crate::limits::TAGS_PER_RESOURCE_MAX;

/// Characters AWS allows in tag keys and values (per kinesalite's AWS-recorded tests):
/// letters, digits, white space and `_ . / = + - % @ :`.
fn valid_tag_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || "_./=+-@%: ".contains(c)
        || ('\u{C0}'..='\u{1FFF}').contains(&c)
        || ('\u{2C00}'..='\u{D7FF}').contains(&c)
}

/// Checks tag characters and the per-resource count after adding `tags` to `existing`;
/// `resource` and `account_id` name the stream or consumer in messages.
pub(crate) fn check_tags(
    account_id: &str,
    resource: &str,
    tags: &BTreeMap<String, String>,
    existing: &BTreeMap<String, String>,
) -> Result<()> {
    let texts = || tags.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]);
    if texts().any(|t| !t.chars().all(valid_tag_char)) {
        return Err(EngineError::InvalidArgument(
            "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @ :.".into(),
        ));
    }
    if texts().any(|t| t.contains('%')) {
        return Err(EngineError::InvalidArgument(format!(
            "Failed to add tags to stream {resource} under account {account_id} because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@',':'."
        )));
    }
    let total = existing.keys().chain(tags.keys()).collect::<BTreeSet<_>>().len();
    if total > TAGS_PER_RESOURCE_MAX {
        return Err(EngineError::InvalidArgument(format!(
            "Failed to add tags to stream {resource} under account {account_id} because a given stream cannot have more than {TAGS_PER_RESOURCE_MAX} tags associated with it."
        )));
    }
    Ok(())
}
