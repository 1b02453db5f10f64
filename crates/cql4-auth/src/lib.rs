//! Sans-io authentication for the Cassandra native protocol v4: SASL PLAIN for
//! `PasswordAuthenticator`, AWS SigV4 for Amazon Keyspaces, and AWS credential providers.
//!
//! No sockets, no async runtime, no file or process I/O (injected through [`FileReader`],
//! [`ProcessRunner`] and [`HttpFetcher`]), no frame codec: the connection layer maps AUTHENTICATE,
//! AUTH_CHALLENGE and AUTH_SUCCESS (native_protocol_v4.spec §4.2.3, §4.2.7, §4.2.8) to the
//! calls below and sends each returned token as an AUTH_RESPONSE (§4.1.2).
//!
//! ```
//! use cql4_auth::{
//!     AuthError, AuthProvider, Exchange, ExchangeLimits, PasswordAuthenticator, ServerMessage,
//!     Step,
//! };
//!
//! async fn handshake(
//!     provider: &dyn AuthProvider,
//!     class: &str,                                   // from AUTHENTICATE
//!     mut recv: impl FnMut() -> ServerMessage<'static>, // AUTH_CHALLENGE / AUTH_SUCCESS
//!     mut send: impl FnMut(&[u8]),                   // AUTH_RESPONSE
//! ) -> Result<(), AuthError> {
//!     let mechanism = provider.start(class).await?; // the only await
//!     let (initial, mut state) = Exchange::start(mechanism, ExchangeLimits::default())?;
//!     send(initial.expose());
//!     loop {
//!         match state.handle(recv())? {
//!             Step::Respond(token, next) => {
//!                 send(token.expose());
//!                 state = next;
//!             }
//!             Step::Authenticated => return Ok(()),
//!         }
//!     }
//! }
//!
//! let provider = PasswordAuthenticator::new("cassandra", "cassandra")?;
//! let mut sent = Vec::new();
//! let done = handshake(
//!     &provider,
//!     "org.apache.cassandra.auth.PasswordAuthenticator",
//!     || ServerMessage::Success(None),
//!     |token| sent.push(token.to_vec()),
//! );
//! cql4_auth::now_or_never(done).expect("PLAIN never waits")?;
//! assert_eq!(sent, vec![b"\0cassandra\0cassandra".to_vec()]);
//! # Ok::<(), AuthError>(())
//! ```
//!
//! Secrets (passwords, secret keys, session tokens, the tokens built from them) are
//! [`Secret`]/[`SecretString`]: `Debug` and `Display` print `***`, memory is zeroed on drop,
//! and no error or log line of this crate contains one.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod clock;
pub mod credentials;
mod env;
mod error;
mod io;
mod plain;
mod region;
mod sasl;
mod secret;
pub mod sigv4;
mod time_fmt;

pub use clock::{Clock, FixedClock, SystemClock};
pub use credentials::{
    now_or_never, CachingProvider, ChainProvider, ContainerProvider, Credentials,
    CredentialsProvider, DefaultChain, EnvironmentProvider, HttpFetcher, HttpMethod, HttpRequest,
    HttpResponse, ImdsProvider, ProfileProvider, DEFAULT_PROCESS_TIMEOUT, MAX_PROCESS_OUTPUT,
    MAX_PROCESS_STDERR, MAX_SHARED_FILE,
};
pub use env::{Env, MapEnv, ProcessEnv};
pub use error::{
    AuthError, CredentialSource, CredentialsError, CredentialsErrorKind, ProfileFileError,
    RegionError, MAX_ECHO,
};
pub use io::{FileReader, ProcessOutput, ProcessRequest, ProcessRunner};
pub use plain::{PasswordAuthenticator, PlainMechanism};
pub use region::resolve_region;
pub use sasl::{
    AuthProvider, AwaitingServer, BoxFuture, Exchange, ExchangeLimits, SaslMechanism,
    ServerMessage, Step,
};
pub use secret::{Secret, SecretString};
pub use sigv4::{SigV4AuthProvider, SigV4Mechanism};
