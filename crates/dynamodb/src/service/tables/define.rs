//! Reading the definitions CreateTable and UpdateTable carry (attribute definitions, key
//! schemas, indexes, billing, tags) into a [`TableDef`]'s parts, with DynamoDB's texts.
//!
//! The texts are AWS's as its API reference, SDK issues and DynamoDB-compatible servers
//! record them; where AWS's text is not on record the message says plainly what is wrong.

use std::collections::BTreeMap;
use std::fmt::Display;

use rheo_protocol::dynamodb::model as wire;

use crate::error::DynamoError;
use crate::key::{KeyAttr, KeySchema, KeyType};
use crate::limits;
use crate::table::{Billing, IndexDef, IndexStatus, Projection};

/// DynamoDB's `One or more parameter values were invalid: …` validation error.
pub(super) fn invalid(detail: impl Display) -> DynamoError {
    DynamoError::Validation(format!("One or more parameter values were invalid: {detail}"))
}

/// Checks a new table's name: 3 to 255 of `a-z A-Z 0-9 _ . -` (AWS's constraint texts).
pub(super) fn check_table_name(name: &str) -> Result<(), DynamoError> {
    let violation = if name.len() < 3 {
        "Member must have length greater than or equal to 3"
    } else if name.len() > 255 {
        "Member must have length less than or equal to 255"
    } else if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')) {
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
    } else {
        return Ok(());
    };
    Err(DynamoError::Validation(format!(
        "1 validation error detected: Value '{name}' at 'tableName' failed to satisfy constraint: {violation}"
    )))
}

/// A member the model marks optional that the operation needs, with AWS's text.
pub(super) fn required<'a, T>(member: &'a Option<Vec<T>>, name: &str) -> Result<&'a [T], DynamoError> {
    member.as_deref().ok_or_else(|| {
        DynamoError::Validation(format!(
            "1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

/// The declared attributes, in request order; a name declared twice is refused.
pub(super) fn attributes(definitions: &[wire::AttributeDefinition]) -> Result<Vec<KeyAttr>, DynamoError> {
    let mut attributes: Vec<KeyAttr> = Vec::with_capacity(definitions.len());
    for definition in definitions {
        if attributes.iter().any(|attr| attr.name == definition.attribute_name) {
            return Err(invalid(format!(
                "Duplicate AttributeName in AttributeDefinitions: {}",
                definition.attribute_name
            )));
        }
        attributes.push(KeyAttr { name: definition.attribute_name.clone(), ty: key_type(definition.attribute_type) });
    }
    Ok(attributes)
}

fn key_type(ty: wire::ScalarAttributeType) -> KeyType {
    match ty {
        wire::ScalarAttributeType::S => KeyType::S,
        wire::ScalarAttributeType::N => KeyType::N,
        wire::ScalarAttributeType::B => KeyType::B,
    }
}

/// The wire name of a key attribute's type.
pub(super) fn wire_key_type(ty: KeyType) -> wire::ScalarAttributeType {
    match ty {
        KeyType::S => wire::ScalarAttributeType::S,
        KeyType::N => wire::ScalarAttributeType::N,
        KeyType::B => wire::ScalarAttributeType::B,
    }
}

/// A key schema (of the table or of an index) over the declared `attributes`.
pub(super) fn key_schema(
    elements: &[wire::KeySchemaElement],
    attributes: &[KeyAttr],
) -> Result<KeySchema, DynamoError> {
    if elements.len() > limits::KEY_SCHEMA_ELEMENTS_MAX {
        return Err(DynamoError::Validation(format!(
            "1 validation error detected: Value at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to {}",
            limits::KEY_SCHEMA_ELEMENTS_MAX
        )));
    }
    let names: Vec<&str> = elements.iter().map(|element| element.attribute_name.as_str()).collect();
    let declared = |name: &str| attributes.iter().find(|attr| attr.name == name).cloned();
    if names.iter().any(|name| declared(name).is_none()) {
        let defined: Vec<&str> = attributes.iter().map(|attr| attr.name.as_str()).collect();
        return Err(invalid(format!(
            "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
            names.join(", "),
            defined.join(", ")
        )));
    }
    let (Some(first), second) = (elements.first(), elements.get(1)) else {
        return Err(DynamoError::Validation(
            "1 validation error detected: Value '[]' at 'keySchema' failed to satisfy constraint: Member must have length greater than or equal to 1".into(),
        ));
    };
    if second.is_some_and(|second| second.attribute_name == first.attribute_name) {
        return Err(DynamoError::Validation(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name".into(),
        ));
    }
    if first.key_type != wire::KeyType::Hash {
        return Err(DynamoError::Validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type".into(),
        ));
    }
    if second.is_some_and(|second| second.key_type != wire::KeyType::Range) {
        return Err(DynamoError::Validation(
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type".into(),
        ));
    }
    let attr = |element: &wire::KeySchemaElement| {
        declared(&element.attribute_name).ok_or_else(|| DynamoError::Internal("key attribute vanished".into()))
    };
    Ok(KeySchema { hash: attr(first)?, range: second.map(attr).transpose()? })
}

/// The wire form of a key schema.
pub(super) fn wire_key_schema(key: &KeySchema) -> Vec<wire::KeySchemaElement> {
    let mut elements =
        vec![wire::KeySchemaElement { attribute_name: key.hash.name.clone(), key_type: wire::KeyType::Hash }];
    if let Some(range) = &key.range {
        elements.push(wire::KeySchemaElement { attribute_name: range.name.clone(), key_type: wire::KeyType::Range });
    }
    elements
}

/// An index's projection.
pub(super) fn projection(projection: &wire::Projection) -> Result<Projection, DynamoError> {
    let Some(projection_type) = projection.projection_type else {
        return Err(invalid("Unknown ProjectionType: null"));
    };
    match (projection_type, &projection.non_key_attributes) {
        (wire::ProjectionType::Include, Some(names)) if !names.is_empty() => Ok(Projection::Include(names.clone())),
        (wire::ProjectionType::Include, _) => {
            Err(invalid("ProjectionType is INCLUDE, but NonKeyAttributes is not specified"))
        }
        (other, Some(_)) => {
            Err(invalid(format!("ProjectionType is {}, but NonKeyAttributes is specified", other.as_str())))
        }
        (wire::ProjectionType::All, None) => Ok(Projection::All),
        (wire::ProjectionType::KeysOnly, None) => Ok(Projection::KeysOnly),
    }
}

/// The wire form of a projection.
pub(super) fn wire_projection(projection: &Projection) -> wire::Projection {
    let (projection_type, non_key_attributes) = match projection {
        Projection::All => (wire::ProjectionType::All, None),
        Projection::KeysOnly => (wire::ProjectionType::KeysOnly, None),
        Projection::Include(names) => (wire::ProjectionType::Include, Some(names.clone())),
    };
    wire::Projection { projection_type: Some(projection_type), non_key_attributes }
}

/// Provisioned read and write capacity, within DynamoDB's bounds.
pub(super) fn throughput(throughput: &wire::ProvisionedThroughput) -> Result<(u64, u64), DynamoError> {
    let units = |value: i64, name: &str| {
        if value > limits::CAPACITY_UNITS_MAX {
            return Err(DynamoError::Validation(format!("Given value {value} for {name} is out of bounds")));
        }
        u64::try_from(value)
            .map_err(|_| DynamoError::Validation(format!("Given value {value} for {name} is out of bounds")))
    };
    Ok((
        units(throughput.read_capacity_units, "ReadCapacityUnits")?,
        units(throughput.write_capacity_units, "WriteCapacityUnits")?,
    ))
}

/// CreateTable's billing: on demand refuses throughput; provisioned (the default) needs it.
pub(super) fn billing(
    mode: Option<wire::BillingMode>,
    provisioned: Option<&wire::ProvisionedThroughput>,
) -> Result<Billing, DynamoError> {
    match (mode, provisioned) {
        (Some(wire::BillingMode::PayPerRequest), None) => Ok(Billing::PayPerRequest),
        (Some(wire::BillingMode::PayPerRequest), Some(_)) => Err(invalid(
            "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
        )),
        (_, Some(provisioned)) => {
            let (read, write) = throughput(provisioned)?;
            Ok(Billing::Provisioned { read, write })
        }
        (_, None) => Err(invalid(
            "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
        )),
    }
}

/// An index's throughput under the table's billing: required when provisioned, refused on
/// demand.
pub(super) fn index_throughput(
    name: &str,
    billing: &Billing,
    provisioned: Option<&wire::ProvisionedThroughput>,
) -> Result<Option<(u64, u64)>, DynamoError> {
    match (billing, provisioned) {
        (Billing::PayPerRequest, None) => Ok(None),
        (Billing::PayPerRequest, Some(_)) => Err(invalid(format!(
            "ProvisionedThroughput should not be specified for index: {name} when BillingMode is PAY_PER_REQUEST"
        ))),
        (Billing::Provisioned { .. }, Some(provisioned)) => Ok(Some(throughput(provisioned)?)),
        (Billing::Provisioned { .. }, None) => {
            Err(invalid(format!("ProvisionedThroughput must be specified for index: {name}")))
        }
    }
}

/// What a new global secondary index is made of, from CreateTable or UpdateTable.
pub(super) struct GlobalIndexSpec<'a> {
    pub name: &'a str,
    pub key_schema: &'a [wire::KeySchemaElement],
    pub projection: &'a wire::Projection,
    pub provisioned: Option<&'a wire::ProvisionedThroughput>,
    pub on_demand: bool,
    pub warm: bool,
}

/// The same members of CreateTable's `GlobalSecondaryIndex` and UpdateTable's
/// `CreateGlobalSecondaryIndexAction` (two model types).
macro_rules! global_index_spec {
    ($index:expr) => {
        GlobalIndexSpec {
            name: &$index.index_name,
            key_schema: &$index.key_schema,
            projection: &$index.projection,
            provisioned: $index.provisioned_throughput.as_ref(),
            on_demand: $index.on_demand_throughput.is_some(),
            warm: $index.warm_throughput.is_some(),
        }
    };
}

impl<'a> GlobalIndexSpec<'a> {
    pub fn of_create_table(index: &'a wire::GlobalSecondaryIndex) -> Self {
        global_index_spec!(index)
    }

    pub fn of_update_table(index: &'a wire::CreateGlobalSecondaryIndexAction) -> Self {
        global_index_spec!(index)
    }
}

/// A new global secondary index (status CREATING until `ends_ms`).
pub(super) fn global_index(
    spec: &GlobalIndexSpec<'_>,
    attributes: &[KeyAttr],
    billing: &Billing,
    ends_ms: u64,
) -> Result<IndexDef, DynamoError> {
    refuse_capacity_settings(spec.on_demand, spec.warm)?;
    Ok(IndexDef {
        name: spec.name.to_owned(),
        local: false,
        key: key_schema(spec.key_schema, attributes)?,
        projection: projection(spec.projection)?,
        status: IndexStatus::Creating,
        provisioned: index_throughput(spec.name, billing, spec.provisioned)?,
        transition_ends_ms: Some(ends_ms),
    })
}

/// A local secondary index: the table's partition key and a sort key of its own.
pub(super) fn local_index(
    index: &wire::LocalSecondaryIndex,
    attributes: &[KeyAttr],
    table_key: &KeySchema,
    ends_ms: u64,
) -> Result<IndexDef, DynamoError> {
    if table_key.range.is_none() {
        return Err(invalid(
            "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex",
        ));
    }
    let key = key_schema(&index.key_schema, attributes)?;
    if key.range.is_none() {
        return Err(invalid(format!("Index KeySchema does not have a range key for index: {}", index.index_name)));
    }
    if key.hash.name != table_key.hash.name {
        return Err(invalid(format!(
            "Index KeySchema does not have the same leading hash key as table KeySchema for index: {}. index hash key: {}, table hash key: {}",
            index.index_name, key.hash.name, table_key.hash.name
        )));
    }
    Ok(IndexDef {
        name: index.index_name.clone(),
        local: true,
        key,
        projection: projection(&index.projection)?,
        status: IndexStatus::Creating,
        provisioned: None,
        transition_ends_ms: Some(ends_ms),
    })
}

/// Refuses index names used twice and more indexes than a table may have.
pub(super) fn check_index_counts(indexes: &[IndexDef]) -> Result<(), DynamoError> {
    for (position, index) in indexes.iter().enumerate() {
        if indexes[..position].iter().any(|earlier| earlier.name == index.name) {
            return Err(invalid(format!("Duplicate index name: {}", index.name)));
        }
    }
    if indexes.iter().filter(|index| index.local).count() > limits::LSIS_PER_TABLE_MAX {
        return Err(invalid(format!(
            "Number of LocalSecondaryIndexes exceeds per-table limit of {}",
            limits::LSIS_PER_TABLE_MAX
        )));
    }
    if indexes.iter().filter(|index| !index.local).count() > limits::GSIS_PER_TABLE_MAX {
        return Err(invalid(format!(
            "GlobalSecondaryIndex count exceeds the per-table limit of {}",
            limits::GSIS_PER_TABLE_MAX
        )));
    }
    Ok(())
}

/// Refuses attribute definitions that no key of the table or its indexes uses: DynamoDB
/// keeps only key attributes in a table's schema.
pub(super) fn check_attributes_used(
    attributes: &[KeyAttr],
    key: &KeySchema,
    indexes: &[IndexDef],
) -> Result<(), DynamoError> {
    let used = used_attribute_names(key, indexes);
    if attributes.iter().all(|attr| used.contains(&attr.name.as_str())) {
        return Ok(());
    }
    if indexes.is_empty() {
        return Err(invalid(
            "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ));
    }
    let defined: Vec<&str> = attributes.iter().map(|attr| attr.name.as_str()).collect();
    Err(invalid(format!(
        "Some AttributeDefinitions are not used. AttributeDefinitions: [{}], keys used: [{}]",
        defined.join(", "),
        used.join(", ")
    )))
}

/// The names of every key attribute of the table and its indexes, each once, in order.
pub(super) fn used_attribute_names<'a>(key: &'a KeySchema, indexes: &'a [IndexDef]) -> Vec<&'a str> {
    let mut used: Vec<&str> = Vec::new();
    for name in key.names().chain(indexes.iter().flat_map(|index| index.key.names())) {
        if !used.contains(&name) {
            used.push(name);
        }
    }
    used
}

/// Tags as stored, after DynamoDB's checks: at most
/// [`TAGS_PER_RESOURCE_MAX`](limits::TAGS_PER_RESOURCE_MAX) on a table, `aws:` reserved.
pub(super) fn merge_tags(current: &mut BTreeMap<String, String>, tags: &[wire::Tag]) -> Result<(), DynamoError> {
    for tag in tags {
        if tag.key.starts_with("aws:") {
            return Err(invalid(format!("Tag keys starting with 'aws:' are reserved for AWS use: {}", tag.key)));
        }
    }
    let mut merged = current.clone();
    merged.extend(tags.iter().map(|tag| (tag.key.clone(), tag.value.clone())));
    if merged.len() > limits::TAGS_PER_RESOURCE_MAX {
        return Err(DynamoError::LimitExceeded(format!(
            "The number of tags on a table cannot exceed {}",
            limits::TAGS_PER_RESOURCE_MAX
        )));
    }
    *current = merged;
    Ok(())
}

/// Refuses a table class other than `STANDARD` and encryption with a KMS key: Rheo
/// stores every table alike in its own data directory, so describing either would
/// promise something that is not done. `SSESpecification` with `Enabled: false` (a key
/// owned by AWS) is DynamoDB's default and accepted.
pub(super) fn refuse_storage_options(
    class: Option<wire::TableClass>,
    sse: Option<&wire::SSESpecification>,
) -> Result<(), DynamoError> {
    if class.is_some_and(|class| class != wire::TableClass::Standard) {
        return Err(DynamoError::Unsupported("TableClass STANDARD_INFREQUENT_ACCESS".into()));
    }
    if sse.is_some_and(|sse| sse.enabled == Some(true) || sse.sse_type.is_some() || sse.kms_master_key_id.is_some()) {
        return Err(DynamoError::Unsupported("Server-side encryption with a KMS key (SSESpecification)".into()));
    }
    Ok(())
}

/// Refuses the capacity settings Rheo does not keep (`OnDemandThroughput` maxima,
/// `WarmThroughput`): requests are never throttled, so storing them would promise a limit
/// that is not enforced.
pub(super) fn refuse_capacity_settings(on_demand: bool, warm: bool) -> Result<(), DynamoError> {
    if on_demand {
        return Err(DynamoError::Unsupported("OnDemandThroughput".into()));
    }
    if warm {
        return Err(DynamoError::Unsupported("WarmThroughput".into()));
    }
    Ok(())
}
