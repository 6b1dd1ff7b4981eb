//! `iam:PassRole`: a call that hands a role to a service (a delivery stream's or an
//! application's `RoleARN`, a channel's `ServiceExecutionRoleARN`) lets that service act
//! as the role, so the caller must be allowed to pass it — as AWS requires. Without this,
//! anyone allowed to create a delivery stream could copy any stream out as any role.

use super::{Check, Needs};

/// Members naming a role end so (`RoleARN`, `ServiceExecutionRoleARN`,
/// `ReferenceRoleARN`, and the `...Update` forms of UpdateApplication).
const ROLE_MEMBER_SUFFIXES: [&str; 2] = ["RoleARN", "RoleARNUpdate"];

/// The most role members one request is searched for: the models bound their lists,
/// this bounds the walk too.
const MAX_ROLES: usize = 64;

/// `needs` plus `iam:PassRole` on every role the request `body` (its JSON as encoded)
/// names, each once.
pub fn with_passed_roles(mut needs: Needs, body: &[u8]) -> Needs {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return needs;
    };
    let mut roles = Vec::new();
    collect(&value, &mut roles);
    needs.checks.extend(roles.into_iter().map(|role| Check::new("iam", "PassRole", role)));
    needs
}

fn collect(value: &serde_json::Value, roles: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(members) => {
            for (name, member) in members {
                let names_role = ROLE_MEMBER_SUFFIXES.iter().any(|suffix| name.ends_with(suffix));
                match member {
                    serde_json::Value::String(role) if names_role => {
                        if !roles.contains(role) && roles.len() < MAX_ROLES {
                            roles.push(role.clone());
                        }
                    }
                    _ => collect(member, roles),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| collect(item, roles)),
        _ => {}
    }
}
