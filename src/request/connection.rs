//! [`ConnectionInfo`]: where a request came from and arrived at.

use std::net::SocketAddr;

use http::Extensions;

/// The two ends of the connection a request arrived on: where `http.host`,
/// `net.host.port`, `net.peer.ip` and `net.peer.port` come from.
///
/// Insert it into the request extensions in a hyper connection loop, or let axum do
/// it (feature `axum`) with
/// `app.into_make_service_with_connect_info::<ConnectionInfo>()`. The layer also reads
/// axum's plain `ConnectInfo<SocketAddr>` (peer only) and falls back to
/// [`TracingLayerBuilder::local_addr`](crate::TracingLayerBuilder::local_addr).
///
/// ```
/// use std::net::SocketAddr;
/// use tower_otel_tracing::ConnectionInfo;
///
/// let mut req = http::Request::new(());
/// req.extensions_mut().insert(ConnectionInfo {
///     local_addr: "10.0.0.2:3000".parse::<SocketAddr>().unwrap(),
///     peer_addr: "10.0.0.9:59482".parse::<SocketAddr>().unwrap(),
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// The server's own address on this connection.
    pub local_addr: SocketAddr,
    /// The client's address.
    pub peer_addr: SocketAddr,
}

/// Local and peer address of a request, from whichever source is present.
pub(crate) fn addresses(
    ext: &Extensions,
    fallback_local: Option<SocketAddr>,
) -> (Option<SocketAddr>, Option<SocketAddr>) {
    if let Some(info) = ext.get::<ConnectionInfo>() {
        return (Some(info.local_addr), Some(info.peer_addr));
    }
    #[cfg(feature = "axum")]
    {
        use axum::extract::ConnectInfo;
        if let Some(ConnectInfo(info)) = ext.get::<ConnectInfo<ConnectionInfo>>() {
            return (Some(info.local_addr), Some(info.peer_addr));
        }
        if let Some(ConnectInfo(peer)) = ext.get::<ConnectInfo<SocketAddr>>() {
            return (fallback_local, Some(*peer));
        }
    }
    (fallback_local, None)
}

#[cfg(feature = "axum")]
impl
    axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, tokio::net::TcpListener>>
    for ConnectionInfo
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        let peer_addr = *stream.remote_addr();
        // The stream's own local address is exact even when the listener is bound to 0.0.0.0.
        let local_addr = stream
            .io()
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        ConnectionInfo {
            local_addr,
            peer_addr,
        }
    }
}
