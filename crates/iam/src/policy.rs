//! The policy document model and its parser. Documents are read from JSON into typed,
//! pre-compiled statements once (at `PutResourcePolicy` or at `--policies` load), so
//! evaluation per request does no parsing.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::condition::{self, Condition};
use crate::error::PolicyError;
use crate::json::StrictValue;
use crate::template::Template;
use crate::wildcard::{self, Pattern};
use crate::PolicyKind;

/// The largest document [`Policy::parse`] reads, in bytes counting whitespace: AWS's largest
/// resource-based policy quota (20 KB, DynamoDB's, which counts whitespace).
pub const MAX_POLICY_BYTES: usize = 20 * 1024;

/// The largest identity policy, in characters not counting whitespace: the quota of an IAM
/// role's inline policies (10,240), IAM's most generous identity-policy quota.
pub const MAX_IDENTITY_POLICY_CHARS: usize = 10_240;

/// The longest single value (an action, a resource, a principal, a condition value), in
/// characters: AWS's longest ARN (2,048).
pub const MAX_VALUE_CHARS: usize = 2048;

/// The most statements one document may hold (bounds the work of every evaluation).
pub const MAX_STATEMENTS: usize = 100;

/// The `Version` element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyVersion {
    /// `"2012-10-17"`: the current language, with policy variables.
    V2012_10_17,
    /// `"2008-10-17"` or no `Version`: `${...}` is literal text.
    V2008_10_17,
}

/// The `Effect` element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// `"Allow"`.
    Allow,
    /// `"Deny"`.
    Deny,
}

/// `Action`/`Resource`/`Principal` or their `Not...` forms.
#[derive(Debug, Clone, PartialEq)]
enum Clause<T> {
    /// The statement applies to these.
    Listed(Vec<T>),
    /// The statement applies to everything except these.
    AllExcept(Vec<T>),
}

impl<T> Clause<T> {
    fn applies(&self, mut matches: impl FnMut(&T) -> bool) -> bool {
        match self {
            Clause::Listed(items) => items.iter().any(&mut matches),
            Clause::AllExcept(items) => !items.iter().any(matches),
        }
    }
}

/// One entry of a `Principal` element.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PrincipalId {
    /// `"*"` or `{"AWS": "*"}`: everyone.
    Anyone,
    /// An account (`"123456789012"` or `arn:aws:iam::123456789012:root`).
    Account(String),
    /// A user, role or assumed-role ARN.
    Arn(String),
    /// A service, federated or canonical-user principal: accepted for compatibility with
    /// policies written for AWS, matches no Rheo caller.
    Foreign,
}

/// One statement of a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    sid: Option<String>,
    effect: Effect,
    actions: Clause<Pattern>,
    resources: Clause<Template>,
    principals: Option<Clause<PrincipalId>>,
    conditions: Vec<Condition>,
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    version: PolicyVersion,
    id: Option<String>,
    statements: Vec<Statement>,
}

impl Policy {
    /// Parses a policy document (JSON) of either kind: a `Principal` element is accepted but
    /// not required. Use [`Policy::parse_as`] to hold a document to one kind's rules.
    pub fn parse(document: &str) -> Result<Policy, PolicyError> {
        parse_document(document, None)
    }

    /// Parses a document as AWS does for `kind`: identity policies must not name a
    /// `Principal` and are bounded by [`MAX_IDENTITY_POLICY_CHARS`]; every statement of a
    /// resource policy must name one.
    pub fn parse_as(document: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
        parse_document(document, Some(kind))
    }

    /// The `Version`.
    pub fn version(&self) -> PolicyVersion {
        self.version
    }

    /// The `Id`, if any.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The statements, in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }
}

impl Statement {
    /// The `Sid`, if any.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// The `Effect`.
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// Whether the statement names `action` (case-insensitive, with wildcards).
    pub(crate) fn applies_to_action(&self, action: &str) -> bool {
        self.actions.applies(|pattern| pattern.matches(action, wildcard::Case::Insensitive))
    }

    /// Whether the statement names `resource` (case-sensitive, ARN component-wise).
    pub(crate) fn applies_to_resource(&self, resource: &str, context: &crate::Context) -> bool {
        self.resources
            .applies(|template| template.pattern(context).is_some_and(|pattern| pattern.matches_arn(resource)))
    }

    /// Whether the statement names the caller. A statement without `Principal` applies to
    /// the policy's owner in identity policies and to no one in resource policies.
    pub(crate) fn applies_to_principal(&self, kind: PolicyKind, principal: &str, account: &str) -> bool {
        let Some(principals) = &self.principals else {
            return kind == PolicyKind::Identity;
        };
        let effect = self.effect;
        // Under NotPrincipal an account entry exempts the account's root user only: AWS
        // documents that a Deny with NotPrincipal must name the account of an exempted
        // user as well, else the whole account is denied. Its users are not exempted.
        let excepted = matches!(principals, Clause::AllExcept(_));
        principals.applies(|id| match id {
            PrincipalId::Anyone => true,
            PrincipalId::Arn(arn) => arn == principal,
            // Naming an account delegates to the account's own identity policies: an Allow
            // does not by itself grant its users anything (only the account's root user),
            // while a Deny covers every principal of the account.
            PrincipalId::Account(id) => match effect {
                _ if excepted => is_root_of(principal, id),
                Effect::Allow => is_root_of(principal, id),
                Effect::Deny => id == account || arn_account(principal) == Some(id.as_str()),
            },
            PrincipalId::Foreign => false,
        })
    }

    pub(crate) fn conditions_hold(&self, context: &crate::Context) -> bool {
        self.conditions.iter().all(|c| c.holds(context))
    }
}

/// Whether `principal` is `arn:aws:iam::ACCOUNT:root` (compared without building it).
fn is_root_of(principal: &str, account: &str) -> bool {
    principal.strip_prefix("arn:aws:iam::").and_then(|rest| rest.strip_suffix(":root")) == Some(account)
}

/// The account field of an ARN (`arn:partition:service:region:ACCOUNT:...`).
pub(crate) fn arn_account(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    (parts.next()? == "arn").then_some(())?;
    parts.nth(3)
}

const DOCUMENT_FIELDS: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_FIELDS: &[&str] =
    &["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition"];

fn parse_document(document: &str, kind: Option<PolicyKind>) -> Result<Policy, PolicyError> {
    if document.len() > MAX_POLICY_BYTES {
        return Err(PolicyError::TooLarge { limit: MAX_POLICY_BYTES });
    }
    if kind == Some(PolicyKind::Identity)
        && document.chars().filter(|c| !c.is_whitespace()).count() > MAX_IDENTITY_POLICY_CHARS
    {
        return Err(PolicyError::TooLarge { limit: MAX_IDENTITY_POLICY_CHARS });
    }
    // serde_json stops nesting deeper than 128 levels, so hostile depth cannot exhaust the
    // stack; the document model below is at most five levels deep anyway.
    // A key given twice in one object is refused rather than read as its last value.
    let StrictValue(value) =
        serde_json::from_str(document).map_err(|e| PolicyError::Syntax(format!("Syntax errors in policy: {e}.")))?;
    let Value::Object(top) = value else {
        return Err(PolicyError::Syntax("Syntax errors in policy: the document must be a JSON object.".to_owned()));
    };
    check_fields(&top, DOCUMENT_FIELDS)?;
    let version = match top.get("Version") {
        None => PolicyVersion::V2008_10_17,
        Some(Value::String(v)) if v == "2012-10-17" => PolicyVersion::V2012_10_17,
        Some(Value::String(v)) if v == "2008-10-17" => PolicyVersion::V2008_10_17,
        Some(other) => return Err(PolicyError::InvalidVersion(display(other))),
    };
    let id = match top.get("Id") {
        None => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(_) => return Err(PolicyError::Syntax("Syntax errors in policy: Id must be a string.".to_owned())),
    };
    let raw_statements: Vec<&Value> = match top.get("Statement") {
        None => return Err(PolicyError::MissingField("Statement")),
        Some(Value::Array(list)) => list.iter().collect(),
        Some(single @ Value::Object(_)) => vec![single],
        Some(_) => {
            return Err(PolicyError::Syntax(
                "Syntax errors in policy: Statement must be an object or a list of objects.".to_owned(),
            ))
        }
    };
    if raw_statements.len() > MAX_STATEMENTS {
        return Err(PolicyError::TooManyStatements { limit: MAX_STATEMENTS });
    }
    let mut sids = BTreeSet::new();
    let mut statements = Vec::with_capacity(raw_statements.len());
    for raw in raw_statements {
        let statement = parse_statement(raw, version, kind)?;
        if let Some(sid) = &statement.sid {
            if !sid.is_empty() && !sids.insert(sid.clone()) {
                return Err(PolicyError::DuplicateSid(sid.clone()));
            }
        }
        statements.push(statement);
    }
    Ok(Policy { version, id, statements })
}

fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn check_fields(object: &Map<String, Value>, known: &[&str]) -> Result<(), PolicyError> {
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => Err(PolicyError::UnknownField(unknown.clone())),
        None => Ok(()),
    }
}

fn parse_statement(raw: &Value, version: PolicyVersion, kind: Option<PolicyKind>) -> Result<Statement, PolicyError> {
    let Value::Object(fields) = raw else {
        return Err(PolicyError::Syntax("Syntax errors in policy: each Statement must be an object.".to_owned()));
    };
    check_fields(fields, STATEMENT_FIELDS)?;
    let sid = match fields.get("Sid") {
        None => None,
        Some(Value::String(sid)) => Some(sid.clone()),
        Some(_) => return Err(PolicyError::Syntax("Syntax errors in policy: Sid must be a string.".to_owned())),
    };
    let effect = match fields.get("Effect") {
        None => return Err(PolicyError::MissingField("Effect")),
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        Some(other) => return Err(PolicyError::InvalidEffect(display(other))),
    };
    let actions = match either(fields, "Action", "NotAction")? {
        None => return Err(PolicyError::MissingActions),
        Some((list, negated)) => {
            let patterns = strings(list, if negated { "NotAction" } else { "Action" })?
                .into_iter()
                .map(|a| parse_action(&a))
                .collect::<Result<Vec<_>, _>>()?;
            if patterns.is_empty() {
                return Err(PolicyError::MissingActions);
            }
            clause(patterns, negated)
        }
    };
    let variables = version == PolicyVersion::V2012_10_17;
    let resources = match either(fields, "Resource", "NotResource")? {
        None => return Err(PolicyError::MissingResources),
        Some((list, negated)) => {
            let templates = strings(list, if negated { "NotResource" } else { "Resource" })?
                .into_iter()
                .map(|r| parse_resource(&r, variables))
                .collect::<Result<Vec<_>, _>>()?;
            if templates.is_empty() {
                return Err(PolicyError::MissingResources);
            }
            clause(templates, negated)
        }
    };
    let principals = match either(fields, "Principal", "NotPrincipal")? {
        None => None,
        Some((value, negated)) => Some(clause(parse_principal(value)?, negated)),
    };
    match (kind, &principals) {
        (Some(PolicyKind::Identity), Some(_)) => return Err(PolicyError::PrincipalNotAllowed),
        (Some(PolicyKind::Resource), None) => return Err(PolicyError::MissingField("Principal")),
        _ => {}
    }
    let conditions = match fields.get("Condition") {
        None => Vec::new(),
        Some(block) => condition::parse_block(block, variables)?,
    };
    Ok(Statement { sid, effect, actions, resources, principals, conditions })
}

fn clause<T>(items: Vec<T>, negated: bool) -> Clause<T> {
    if negated {
        Clause::AllExcept(items)
    } else {
        Clause::Listed(items)
    }
}

/// The element `positive` or `negative` (never both), with whether it is the negative one.
fn either<'a>(
    fields: &'a Map<String, Value>,
    positive: &'static str,
    negative: &'static str,
) -> Result<Option<(&'a Value, bool)>, PolicyError> {
    match (fields.get(positive), fields.get(negative)) {
        (Some(_), Some(_)) => Err(PolicyError::Conflicting(positive, negative)),
        (Some(v), None) => Ok(Some((v, false))),
        (None, Some(v)) => Ok(Some((v, true))),
        (None, None) => Ok(None),
    }
}

/// A string or a list of strings.
fn strings(value: &Value, element: &'static str) -> Result<Vec<String>, PolicyError> {
    let not_strings =
        || PolicyError::Syntax(format!("Syntax errors in policy: {element} must be a string or a list of strings."));
    let list = match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(list) => {
            list.iter().map(|v| v.as_str().map(str::to_owned).ok_or_else(not_strings)).collect::<Result<_, _>>()?
        }
        _ => return Err(not_strings()),
    };
    list.into_iter().map(|v| bounded_value(v, element)).collect()
}

/// Refuses a value longer than [`MAX_VALUE_CHARS`]: wildcard matching costs up to the
/// pattern's length times the value's, on every request.
pub(crate) fn bounded_value(value: String, element: &str) -> Result<String, PolicyError> {
    if value.chars().count() > MAX_VALUE_CHARS {
        return Err(PolicyError::ValueTooLong { element: element.to_owned(), limit: MAX_VALUE_CHARS });
    }
    Ok(value)
}

fn parse_action(action: &str) -> Result<Pattern, PolicyError> {
    if action == "*" {
        return Ok(Pattern::parse(action));
    }
    let Some((vendor, name)) = action.split_once(':') else {
        return Err(PolicyError::ActionWithoutVendor(action.to_owned()));
    };
    if vendor.contains(['*', '?']) {
        return Err(PolicyError::ActionVendorWildcard(action.to_owned()));
    }
    let vendor_ok = !vendor.is_empty() && vendor.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let name_ok =
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | '?' | '-' | '_'));
    if !vendor_ok || !name_ok {
        return Err(PolicyError::InvalidAction(action.to_owned()));
    }
    Ok(Pattern::parse(action))
}

fn parse_resource(resource: &str, variables: bool) -> Result<Template, PolicyError> {
    if resource != "*" && !resource.starts_with("arn:") {
        return Err(PolicyError::InvalidResource(resource.to_owned()));
    }
    if resource.starts_with("arn:") && resource.split(':').count() < 3 {
        return Err(PolicyError::InvalidResource(resource.to_owned()));
    }
    if variables {
        Template::with_variables(resource).map_err(|e| PolicyError::Syntax(e.0))
    } else {
        Ok(Template::literal(resource))
    }
}

fn parse_principal(value: &Value) -> Result<Vec<PrincipalId>, PolicyError> {
    match value {
        Value::String(s) if s == "*" => Ok(vec![PrincipalId::Anyone]),
        Value::Object(kinds) if !kinds.is_empty() => {
            let mut ids = Vec::new();
            for (kind, names) in kinds {
                let invalid = || PolicyError::InvalidPrincipal(format!("\"{kind}\":{names}"));
                let names = strings(names, "Principal").map_err(|_| invalid())?;
                if names.is_empty() {
                    return Err(invalid());
                }
                for name in names {
                    ids.push(match kind.as_str() {
                        "AWS" => parse_aws_principal(&name)?,
                        "Service" | "Federated" | "CanonicalUser" if !name.is_empty() => PrincipalId::Foreign,
                        _ => return Err(PolicyError::InvalidPrincipal(format!("\"{kind}\":\"{name}\""))),
                    });
                }
            }
            Ok(ids)
        }
        other => Err(PolicyError::InvalidPrincipal(other.to_string())),
    }
}

fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

fn parse_aws_principal(name: &str) -> Result<PrincipalId, PolicyError> {
    let invalid = || PolicyError::InvalidPrincipal(format!("\"AWS\":\"{name}\""));
    if name == "*" {
        return Ok(PrincipalId::Anyone);
    }
    if is_account_id(name) {
        return Ok(PrincipalId::Account(name.to_owned()));
    }
    // arn:PARTITION:iam::ACCOUNT:root|user/...|role/...  or  arn:PARTITION:sts::ACCOUNT:assumed-role/...
    let parts: Vec<&str> = name.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts.as_slice() else {
        return Err(invalid());
    };
    let shaped = *arn == "arn"
        && partition.starts_with("aws")
        && region.is_empty()
        && is_account_id(account)
        && !name.contains(['*', '?']);
    if !shaped {
        return Err(invalid());
    }
    match (*service, *resource) {
        ("iam", "root") => Ok(PrincipalId::Account((*account).to_owned())),
        ("iam", r) if r.len() > 5 && (r.starts_with("user/") || r.starts_with("role/")) => {
            Ok(PrincipalId::Arn(name.to_owned()))
        }
        ("sts", r) if r.starts_with("assumed-role/") && r.len() > "assumed-role/".len() => {
            Ok(PrincipalId::Arn(name.to_owned()))
        }
        _ => Err(invalid()),
    }
}
