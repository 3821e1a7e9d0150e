//! What the user configured: where the base keys come from, and the agencies to assume.

use super::{AssumeRole, Credentials};

/// Where the base keys come from.
#[derive(Debug, Clone)]
pub enum Base {
    /// Keys given in the configuration, a profile or the environment.
    Keys(Credentials),
    /// The ECS instance metadata (an instance with an agency attached).
    Metadata,
}

/// What the user configured: a base and the agencies to assume from it, in order.
#[derive(Debug, Clone)]
pub struct Chain {
    pub base: Base,
    pub assume_role: Vec<AssumeRole>,
}

impl Chain {
    /// Static keys and nothing else.
    pub fn keys(credentials: Credentials) -> Self {
        Self {
            base: Base::Keys(credentials),
            assume_role: Vec::new(),
        }
    }
}
