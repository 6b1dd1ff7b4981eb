//! Tag rules shared by streams and consumers: AWS's characters and the per-resource count.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{InvalidArgument, Result};
use crate::limits::TAGS_PER_RESOURCE_MAX;

/// Characters AWS allows in tag keys and values (per kinesalite's AWS-recorded tests):
/// letters, digits, white space and `_ . / = + - % @ :`.
fn valid_tag_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || "_./=+-@%: ".contains(c)
        || ('\u{C0}'..='\u{1FFF}').contains(&c)
        || ('\u{2C00}'..='\u{D7FF}').contains(&c)
}

/// Checks the keys given to RemoveTagsFromStream as AddTagsToStream checks tags: a
/// character outside the allowed set first, then `%`, which has a text of its own here.
pub(crate) fn check_tag_keys_to_remove(account_id: &str, stream: &str, keys: &[String]) -> Result<()> {
    if keys.iter().any(|k| !k.chars().all(valid_tag_char)) {
        return Err(InvalidArgument::TagCharacters.into());
    }
    if keys.iter().any(|k| k.contains('%')) {
        return Err(
            InvalidArgument::TagRemovePercent { stream: stream.to_owned(), account: account_id.to_owned() }.into()
        );
    }
    Ok(())
}

/// Checks tag characters and the per-resource count after adding `tags` to `existing`;
/// `resource` and `account_id` name the stream or consumer in messages.
pub fn check_tags(
    account_id: &str,
    resource: &str,
    tags: &BTreeMap<String, String>,
    existing: &BTreeMap<String, String>,
) -> Result<()> {
    let texts = || tags.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]);
    if texts().any(|t| !t.chars().all(valid_tag_char)) {
        return Err(InvalidArgument::TagCharacters.into());
    }
    if texts().any(|t| t.contains('%')) {
        return Err(
            InvalidArgument::TagPercent { resource: resource.to_owned(), account: account_id.to_owned() }.into()
        );
    }
    let total = existing.keys().chain(tags.keys()).collect::<BTreeSet<_>>().len();
    if total > TAGS_PER_RESOURCE_MAX {
        return Err(InvalidArgument::TagCount {
            resource: resource.to_owned(),
            account: account_id.to_owned(),
            limit: TAGS_PER_RESOURCE_MAX,
        }
        .into());
    }
    Ok(())
}
