//! TransactWriteItems' `ClientRequestToken`: DynamoDB answers a repeated call with the same
//! token and the same request, within 10 minutes of the first success, as a success without
//! running it again, and refuses the token with a different request
//! (IdempotentParameterMismatchException). SDKs fill the token in and retry lost answers,
//! so without this a retried `ADD` would count twice.
//!
//! The memory is the writer's: it is read and filled inside the transaction's store job, so
//! two concurrent calls with one token cannot both run. It is kept in memory only (a
//! restart forgets it) and bounded by [`REQUEST_TOKENS_MAX`].

use std::collections::{HashMap, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};

use crate::error::DynamoError;
use crate::limits::{REQUEST_TOKENS_MAX, REQUEST_TOKEN_LIFETIME_MS};

/// Tokens of successful transactions, with when they succeeded and what they asked.
#[derive(Default)]
pub(crate) struct RequestTokens {
    /// Each remembered token's request fingerprint.
    by_token: HashMap<String, u64>,
    /// Tokens in the order they were remembered, for expiry and the bound.
    order: VecDeque<(u64, String)>,
}

/// What a transaction with a token must do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TokenCheck {
    /// Run it (and remember the token if it succeeds).
    Run,
    /// The same request succeeded already: answer success without running it.
    AlreadyDone,
}

/// A request's fingerprint: its wire encoding without the token, hashed.
pub(crate) fn fingerprint(encoded_request: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    encoded_request.hash(&mut hasher);
    hasher.finish()
}

impl RequestTokens {
    /// Whether the request `fingerprint` with `token` runs, at `now_ms`.
    pub(crate) fn check(&mut self, token: &str, fingerprint: u64, now_ms: u64) -> Result<TokenCheck, DynamoError> {
        self.expire(now_ms);
        match self.by_token.get(token) {
            None => Ok(TokenCheck::Run),
            Some(remembered) if *remembered == fingerprint => Ok(TokenCheck::AlreadyDone),
            Some(_) => Err(DynamoError::IdempotentParameterMismatch),
        }
    }

    /// Remembers a token whose transaction succeeded.
    pub(crate) fn remember(&mut self, token: &str, fingerprint: u64, now_ms: u64) {
        if self.by_token.insert(token.to_owned(), fingerprint).is_none() {
            self.order.push_back((now_ms, token.to_owned()));
        }
        while self.order.len() > REQUEST_TOKENS_MAX {
            if let Some((_, oldest)) = self.order.pop_front() {
                self.by_token.remove(&oldest);
            }
        }
    }

    fn expire(&mut self, now_ms: u64) {
        while let Some((at_ms, _)) = self.order.front() {
            if now_ms.saturating_sub(*at_ms) < REQUEST_TOKEN_LIFETIME_MS {
                break;
            }
            if let Some((_, token)) = self.order.pop_front() {
                self.by_token.remove(&token);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_token_answers_its_own_request_and_refuses_others_for_ten_minutes() {
        let mut tokens = RequestTokens::default();
        assert_eq!(tokens.check("t", 1, 0).unwrap(), TokenCheck::Run);
        tokens.remember("t", 1, 0);
        assert_eq!(tokens.check("t", 1, REQUEST_TOKEN_LIFETIME_MS - 1).unwrap(), TokenCheck::AlreadyDone);
        assert!(matches!(tokens.check("t", 2, 1000), Err(DynamoError::IdempotentParameterMismatch)));
        assert_eq!(tokens.check("t", 2, REQUEST_TOKEN_LIFETIME_MS).unwrap(), TokenCheck::Run);
    }

    #[test]
    fn the_memory_is_bounded() {
        let mut tokens = RequestTokens::default();
        for i in 0..REQUEST_TOKENS_MAX + 10 {
            tokens.remember(&i.to_string(), 7, 0);
        }
        assert_eq!(tokens.by_token.len(), REQUEST_TOKENS_MAX);
        assert_eq!(tokens.check("0", 7, 0).unwrap(), TokenCheck::Run);
        assert_eq!(tokens.check(&(REQUEST_TOKENS_MAX + 9).to_string(), 7, 0).unwrap(), TokenCheck::AlreadyDone);
    }
}
