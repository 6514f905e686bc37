//! What an adapter's call failed on, kept whole: the store's or the SDK's error with its source
//! chain, for logs and for code that needs to look inside it. Callers of the API never see it.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// An underlying error. Its text is the whole chain (an SDK error's own text is often just
/// "service error"), and [`Error::source`] leads to the error itself, so nothing is flattened.
#[derive(Debug, Clone)]
pub struct Cause(Arc<dyn Error + Send + Sync>);

impl Cause {
    pub fn new(error: impl Error + Send + Sync + 'static) -> Cause {
        Cause(Arc::new(error))
    }
}

/// A cause that is a message of ours rather than another error.
impl From<String> for Cause {
    fn from(message: String) -> Cause {
        Cause(Arc::from(Box::<dyn Error + Send + Sync>::from(message)))
    }
}

impl From<&str> for Cause {
    fn from(message: &str) -> Cause {
        Cause::from(message.to_owned())
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(e) = next {
            write!(f, ": {e}")?;
            next = e.source();
        }
        Ok(())
    }
}

impl Error for Cause {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.0)
    }
}

/// Two causes are alike when they say the same.
impl PartialEq for Cause {
    fn eq(&self, other: &Cause) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for Cause {}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("service error")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn the_text_is_the_whole_chain_and_the_source_is_the_error_itself() {
        let cause = Cause::new(Outer(std::io::Error::other("throttled: slow down")));
        assert_eq!(cause.to_string(), "service error: throttled: slow down");
        let inner = cause.source().expect("the error itself");
        assert!(inner.downcast_ref::<Outer>().is_some());
        assert_eq!(Cause::from("disk full").to_string(), "disk full");
    }
}
