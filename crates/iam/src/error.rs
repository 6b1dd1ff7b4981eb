//! Why a policy document was refused: one variant per rule, each with the text AWS's IAM
//! answers in its `MalformedPolicyDocument` errors where IAM has one, a plain one otherwise.

/// Why a policy document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The document is longer than the quota.
    #[error("Cannot exceed quota for PolicySize: {limit}")]
    TooLarge {
        /// The quota.
        limit: usize,
    },
    /// More statements than Rheo evaluates.
    #[error("Cannot exceed {limit} statements in one policy")]
    TooManyStatements {
        /// The bound.
        limit: usize,
    },
    /// A single value longer than Rheo matches.
    #[error("A value of {element} is longer than {limit} characters")]
    ValueTooLong {
        /// The element (or condition key) holding it.
        element: String,
        /// The bound.
        limit: usize,
    },
    /// Not JSON, or an element of the wrong JSON type.
    #[error("{0}")]
    Syntax(String),
    /// An element IAM does not know.
    #[error("Syntax errors in policy. Unknown field {0}")]
    UnknownField(String),
    /// A required element is missing.
    #[error("Missing required field {0}")]
    MissingField(&'static str),
    /// A condition key Rheo never supplies for its service: a condition on it would be
    /// decided by the missing-key rule and could grant more than the author meant.
    #[error(
        "The condition key {0} is not supported: Rheo does not supply it, so the condition could not restrict access"
    )]
    UnsupportedConditionKey(String),
    /// A `Version` other than `2012-10-17` or `2008-10-17`.
    #[error("The policy version {0} is not supported: use 2012-10-17 (or 2008-10-17)")]
    InvalidVersion(String),
    /// An `Effect` other than `Allow` or `Deny`.
    #[error("Invalid effect: {0}")]
    InvalidEffect(String),
    /// Neither `Action` nor `NotAction`.
    #[error("Policy statement must contain actions.")]
    MissingActions,
    /// Neither `Resource` nor `NotResource`.
    #[error("Policy statement must contain resources.")]
    MissingResources,
    /// Both an element and its `Not` form.
    #[error("Syntax errors in policy. A statement cannot have both {0} and {1}")]
    Conflicting(&'static str, &'static str),
    /// An action without a `vendor:` prefix.
    #[error("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc. ({0})")]
    ActionWithoutVendor(String),
    /// A wildcard in an action's vendor.
    #[error("Action vendors must not contain wildcards. ({0})")]
    ActionVendorWildcard(String),
    /// An action with characters no action name has.
    #[error("Invalid action: {0}")]
    InvalidAction(String),
    /// A resource that is neither an ARN nor `*`.
    #[error("Resource {0} must be in ARN format or \"*\".")]
    InvalidResource(String),
    /// A `Principal` in an identity policy.
    #[error("Policy document should not specify a principal.")]
    PrincipalNotAllowed,
    /// A principal that is not `*`, an account or an IAM user/role ARN.
    #[error("Invalid principal in policy: {0}")]
    InvalidPrincipal(String),
    /// Two statements with one `Sid`.
    #[error("Statement IDs (SID) in a single policy must be unique. ({0})")]
    DuplicateSid(String),
    /// A condition operator IAM does not have, or Rheo does not evaluate (`BinaryEquals`).
    #[error("Invalid Condition type : {0}")]
    UnknownConditionOperator(String),
    /// A condition value that is not of the operator's type.
    #[error("The value {value:?} of {key} in {operator} is not {expected}")]
    InvalidConditionValue {
        /// The operator.
        operator: String,
        /// The condition key.
        key: String,
        /// The value.
        value: String,
        /// What the operator takes.
        expected: String,
    },
}
