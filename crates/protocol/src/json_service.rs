//! What every JSON 1.1 service generated from a botocore model shares (Firehose,
//! Analytics): the operation enum and its `X-Amz-Target` names, the request and response
//! enums, and decoding through the generic type check and constraint validation, so each
//! service module only lists its operations and its model package.

use crate::check::check_body;
use crate::codec::parse;
use crate::error::DecodeError;
use crate::operation::WireFormat;
use crate::validate::validate_body;
use crate::wire::WireStruct;

/// Decodes and validates a request body: parse, type check, constraint validation (the
/// structure names of messages carry `model_package`), then conversion to the input.
pub(crate) fn decode_input<T: WireStruct>(body: &[u8], model_package: &'static str) -> Result<T, DecodeError> {
    let value = parse(WireFormat::Json, body)?;
    let fields = check_body(value, T::SHAPE, WireFormat::Json)?;
    validate_body(&fields, T::SHAPE, model_package, "").map_err(DecodeError::Validation)?;
    T::from_fields(fields).ok_or(DecodeError::Unparseable)
}

/// Decodes a body with the type check only, as a client reads a response.
pub(crate) fn decode_unvalidated<T: WireStruct>(body: &[u8]) -> Result<T, DecodeError> {
    let value = parse(WireFormat::Json, body)?;
    let fields = check_body(value, T::SHAPE, WireFormat::Json)?;
    T::from_fields(fields).ok_or(DecodeError::Unparseable)
}

/// Declares a service's operation, request and response enums, the error for an unknown
/// operation name and the four codec functions (`decode_request`, `encode_response`,
/// `encode_request`, `decode_response`). The invoking module defines `TARGET_PREFIX` and
/// `MODEL_PACKAGE`.
macro_rules! json_service {
    (
        service: $service:literal,
        operation: $Operation:ident,
        request: $Request:ident,
        response: $Response:ident,
        unknown: $Unknown:ident,
        operations { $( $operation:ident : $input:ident => $output:ident; )* }
    ) => {
        #[doc = concat!("Why an `X-Amz-Target` with the ", $service, " prefix names no operation.")]
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $Unknown(pub String);

        impl std::fmt::Display for $Unknown {
            fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, concat!("unknown ", $service, " operation `{}`"), self.0)
            }
        }

        impl std::error::Error for $Unknown {}

        #[doc = concat!("One of the ", $service, " operations Rheo serves.")]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $Operation {
            $(
                #[doc = concat!("`", stringify!($operation), "`")]
                $operation,
            )*
        }

        impl $Operation {
            /// Every operation.
            pub const ALL: &'static [$Operation] = &[$($Operation::$operation,)*];

            /// The operation's name.
            pub fn name(self) -> &'static str {
                match self {
                    $( $Operation::$operation => stringify!($operation), )*
                }
            }

            /// The operation called `name` (the part of a target after the prefix).
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $( stringify!($operation) => Some($Operation::$operation), )*
                    _ => None,
                }
            }

            /// The operation a full `X-Amz-Target` value names: `None` when the target is
            /// not this service's at all (another service may own it), an error when it has
            /// this service's prefix but names no operation served here.
            pub fn from_target(target: &str) -> Option<Result<Self, $Unknown>> {
                let name = target.strip_prefix(TARGET_PREFIX)?;
                Some(Self::from_name(name).ok_or_else(|| $Unknown(name.to_owned())))
            }
        }

        #[doc = concat!("A decoded ", $service, " request.")]
        // Built once per call and moved once into the service: boxing the large variants
        // would only add an allocation.
        #[allow(clippy::large_enum_variant)]
        #[derive(Clone, Debug, PartialEq)]
        pub enum $Request {
            $(
                #[doc = concat!("`", stringify!($operation), "`")]
                $operation($input),
            )*
        }

        #[doc = concat!("A ", $service, " response to encode.")]
        #[allow(clippy::large_enum_variant)]
        #[derive(Clone, Debug, PartialEq)]
        pub enum $Response {
            $(
                #[doc = concat!("`", stringify!($operation), "`")]
                $operation($output),
            )*
        }

        impl $Request {
            /// The operation this request is for.
            pub fn operation(&self) -> $Operation {
                match self {
                    $( $Request::$operation(_) => $Operation::$operation, )*
                }
            }
        }

        impl $Response {
            /// The operation this response answers.
            pub fn operation(&self) -> $Operation {
                match self {
                    $( $Response::$operation(_) => $Operation::$operation, )*
                }
            }
        }

        /// Decodes and validates a request body for `operation`: parse, type check,
        /// constraint validation, then conversion to the typed input.
        ///
        /// Unknown members are ignored and `null` members are absent, as on AWS. Only the
        /// model's constraints are checked (the patterns the generator enforces); rules the
        /// model cannot express are the service's (InvalidArgumentException).
        pub fn decode_request(operation: $Operation, body: &[u8]) -> Result<$Request, DecodeError> {
            match operation {
                $( $Operation::$operation => {
                    $crate::json_service::decode_input::<$input>(body, MODEL_PACKAGE).map($Request::$operation)
                } )*
            }
        }

        /// Encodes a response body (`{}` for operations without output members).
        pub fn encode_response(response: &$Response) -> Vec<u8> {
            match response {
                $( $Response::$operation(output) => {
                    $crate::codec::encode_structure(output, $crate::operation::WireFormat::Json)
                } )*
            }
        }

        /// Encodes a request body, as a client would send it.
        pub fn encode_request(request: &$Request) -> Vec<u8> {
            match request {
                $( $Request::$operation(input) => {
                    $crate::codec::encode_structure(input, $crate::operation::WireFormat::Json)
                } )*
            }
        }

        /// Decodes a response body, as a client would read it: types are checked,
        /// constraints are not.
        pub fn decode_response(operation: $Operation, body: &[u8]) -> Result<$Response, DecodeError> {
            match operation {
                $( $Operation::$operation => {
                    $crate::json_service::decode_unvalidated::<$output>(body).map($Response::$operation)
                } )*
            }
        }
    };
}

pub(crate) use json_service;
