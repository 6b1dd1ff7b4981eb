//! DynamoDB's documented limits and Rheo's own bounds, each named once.

/// Largest item, attribute names and values together (DynamoDB: 400 KB).
pub const ITEM_BYTES_MAX: usize = 400 * 1024;
/// Largest partition (hash) key value.
pub const HASH_KEY_BYTES_MAX: usize = 2048;
/// Largest sort (range) key value.
pub const RANGE_KEY_BYTES_MAX: usize = 1024;
/// Significant digits of a number.
pub const NUMBER_DIGITS_MAX: usize = 38;
/// Largest expression (each of condition, update, projection, filter, key condition).
pub const EXPRESSION_BYTES_MAX: usize = 4096;
/// Operands of one IN comparison (AWS: "IN … up to 100 values").
pub const IN_OPERANDS_MAX: usize = 100;
/// Entries of a legacy condition map (`Expected`, `ScanFilter`, `QueryFilter`,
/// `KeyConditions`): each is one operator, and DynamoDB allows 300 operators and functions
/// in a condition. The bound also keeps the lowered AND/OR chain shallow.
pub const LEGACY_CONDITIONS_MAX: usize = 300;
/// Deepest nesting of maps and lists in an attribute value.
pub const ATTRIBUTE_DEPTH_MAX: usize = 32;
/// Largest page a Scan or Query reads before stopping with a `LastEvaluatedKey`.
pub const PAGE_BYTES_MAX: usize = 1024 * 1024;
/// Largest BatchGetItem response.
pub const BATCH_GET_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Keys in one BatchGetItem.
pub const BATCH_GET_KEYS_MAX: usize = 100;
/// Requests in one BatchWriteItem.
pub const BATCH_WRITE_REQUESTS_MAX: usize = 25;
/// Actions in one TransactWriteItems or TransactGetItems.
pub const TRANSACT_ITEMS_MAX: usize = 100;
/// Largest transaction, all items together.
pub const TRANSACT_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Global secondary indexes per table.
pub const GSIS_PER_TABLE_MAX: usize = 20;
/// Tables per account and region (AWS's default quota).
pub const TABLES_PER_ACCOUNT_DEFAULT: usize = 2500;
/// Tables ListTables returns per page at most (and by default).
pub const LIST_TABLES_LIMIT_MAX: usize = 100;
/// Write jobs waiting for the store's writer; callers wait for room beyond this.
pub const WRITE_QUEUE_MAX: usize = 4096;
/// Write jobs one group commit takes at most.
pub const GROUP_COMMIT_JOBS_MAX: usize = 256;
/// Local secondary indexes per table.
pub const LSIS_PER_TABLE_MAX: usize = 5;
/// Attributes of a key schema: a partition key and an optional sort key.
pub const KEY_SCHEMA_ELEMENTS_MAX: usize = 2;
/// Tags per table.
pub const TAGS_PER_RESOURCE_MAX: usize = 50;
/// Largest provisioned read or write capacity DynamoDB accepts in a request.
pub const CAPACITY_UNITS_MAX: i64 = 1_000_000_000_000;
/// DescribeLimits: AWS's default per-account and per-table capacity quotas.
pub const ACCOUNT_CAPACITY_UNITS_DEFAULT: i64 = 80_000;
pub const TABLE_CAPACITY_UNITS_DEFAULT: i64 = 40_000;
/// Point-in-time recovery's period when none is chosen (and the only one Rheo describes).
pub const RECOVERY_PERIOD_DAYS_DEFAULT: i32 = 35;
/// DescribeEndpoints: how long clients may cache the endpoint, as AWS answers.
pub const ENDPOINT_CACHE_MINUTES: i64 = 1440;
/// How long a TransactWriteItems `ClientRequestToken` is remembered (DynamoDB: 10 minutes).
pub const REQUEST_TOKEN_LIFETIME_MS: u64 = 10 * 60 * 1000;
/// Request tokens remembered at most; the oldest are forgotten first beyond this.
pub const REQUEST_TOKENS_MAX: usize = 100_000;
