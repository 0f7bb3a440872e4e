//! The bounded label values: method, route and status.

use std::sync::Arc;

use http::{Extensions, Method};

/// How the `code` label shows a response status.
///
/// ```
/// use prometheus_client::middleware::{HttpMetricsLayer, StatusLabel};
/// let builder = HttpMetricsLayer::builder().status(StatusLabel::Class); // "4xx", not "404"
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusLabel {
    /// The status code: `200`, `404`.
    Code,
    /// The status class: `2xx`, `4xx`; five values in all.
    Class,
}

impl StatusLabel {
    /// The label value for `status`, written into `buffer` where it needs one.
    pub(super) fn label(self, status: u16, buffer: &mut itoa::Buffer) -> &str {
        const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];
        match self {
            StatusLabel::Code => buffer.format(status),
            StatusLabel::Class => match status / 100 {
                class @ 1..=5 => CLASSES[usize::from(class) - 1],
                _ => buffer.format(status),
            },
        }
    }
}

/// The route a request matched, for routers other than axum's: put it in the request's
/// extensions before the layer sees the request.
///
/// ```
/// use prometheus_client::middleware::RouteName;
/// let mut request = http::Request::get("/orders/17").body(()).unwrap();
/// request.extensions_mut().insert(RouteName::new("/orders/:id"));
/// assert_eq!(request.extensions().get::<RouteName>().unwrap().as_str(), "/orders/:id");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteName(Arc<str>);

impl RouteName {
    /// The route pattern `route` (not a raw path: it becomes a label value).
    pub fn new(route: impl Into<Arc<str>>) -> Self {
        RouteName(route.into())
    }

    /// The route pattern.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The route label of a request, kept until its response (cheap to clone).
#[derive(Clone)]
pub(super) enum Route {
    #[cfg(feature = "axum")]
    Axum(axum::extract::MatchedPath),
    Named(RouteName),
    Unmatched,
}

impl Route {
    pub(super) fn of(extensions: &Extensions) -> Route {
        #[cfg(feature = "axum")]
        if let Some(matched) = extensions.get::<axum::extract::MatchedPath>() {
            return Route::Axum(matched.clone());
        }
        match extensions.get::<RouteName>() {
            Some(name) => Route::Named(name.clone()),
            None => Route::Unmatched,
        }
    }

    pub(super) fn as_str(&self) -> &str {
        match self {
            #[cfg(feature = "axum")]
            Route::Axum(matched) => matched.as_str(),
            Route::Named(name) => name.as_str(),
            Route::Unmatched => "unmatched",
        }
    }
}

/// The method label: the standard methods as written, anything else `OTHER`.
pub(super) fn method(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::CONNECT => "CONNECT",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::PATCH => "PATCH",
        _ => "OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_value() {
        assert_eq!(method(&Method::PATCH), "PATCH");
        let custom = Method::from_bytes(b"PURGE").expect("a method");
        assert_eq!(method(&custom), "OTHER");
    }

    #[test]
    fn odd_statuses_keep_their_code_as_class() {
        let mut buffer = itoa::Buffer::new();
        assert_eq!(StatusLabel::Class.label(599, &mut buffer), "5xx");
        assert_eq!(StatusLabel::Class.label(999, &mut buffer), "999");
        assert_eq!(StatusLabel::Code.label(201, &mut buffer), "201");
    }

    #[test]
    fn the_route_comes_from_the_extensions() {
        let mut extensions = Extensions::new();
        assert_eq!(Route::of(&extensions).as_str(), "unmatched");
        extensions.insert(RouteName::new("/a/{id}"));
        assert_eq!(Route::of(&extensions).as_str(), "/a/{id}");
    }
}
