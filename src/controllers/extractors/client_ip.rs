use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::request::Parts,
};
use loco_rs::controller::middleware::remote_ip::RemoteIP;

/// The caller's address: what Loco's `remote_ip` middleware resolved (enable
/// it behind a proxy), else the socket peer.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let remote = RemoteIP::from_request_parts(parts, state).await?;
        let ip = match remote {
            RemoteIP::Forwarded(ip) | RemoteIP::Socket(ip) => ip,
            RemoteIP::None => parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(addr)| {
                    addr.ip()
                }),
        };
        Ok(Self(ip))
    }
}
