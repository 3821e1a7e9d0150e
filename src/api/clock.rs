//! The clock that dates each signature (`X-Sdk-Date`) and reads `Retry-After` HTTP-dates.

use std::fmt;
use std::sync::Arc;

use time::OffsetDateTime;

/// Where the client reads the time for `X-Sdk-Date` (and for `Retry-After` HTTP-dates).
/// The system clock by default; tests and the simulator may supply their own.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> OffsetDateTime + Send + Sync>);

impl Clock {
    pub fn system() -> Self {
        Self(Arc::new(OffsetDateTime::now_utc))
    }

    pub fn from_fn(f: impl Fn() -> OffsetDateTime + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    pub fn now(&self) -> OffsetDateTime {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}
