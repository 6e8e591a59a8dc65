//! axum: opt-in route-template span names (`GET /users/{id}`) with `http.route`.

use crate::common::*;
use axum::extract::Path;
use axum::routing::get;
use axum::Router;

fn app(h: &Harness) -> Router {
    Router::new()
        .route(
            "/users/{id}",
            get(|Path(id): Path<u32>| async move { id.to_string() }),
        )
        .route("/users/{id}/posts/{post}", get(|| async { "post" }))
        .layer(h.layer.clone())
}

#[tokio::test]
async fn default_names_spans_after_the_path_like_bentoml() {
    let h = Harness::sampled();
    send(app(&h), get_req("/users/42")).await;
    let spans = h.spans();
    let span = one_server_span(&spans);
    assert_eq!(span.name, "GET /users/42");
    assert_eq!(attr(span, "http.route"), None);
}

#[tokio::test]
async fn route_names_give_low_cardinality_names_and_http_route() {
    let h = Harness::with(sample_all(), |b| b.route_names(true));
    for id in [1, 2, 3] {
        send(app(&h), get_req(&format!("/users/{id}"))).await;
    }
    send(app(&h), get_req("/users/9/posts/7")).await;
    let spans = h.spans();
    let mut names: Vec<&str> = server_spans(&spans)
        .iter()
        .map(|s| s.name.as_ref())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "GET /users/{id}",
            "GET /users/{id}",
            "GET /users/{id}",
            "GET /users/{id}/posts/{post}"
        ]
    );
    let one = server_spans(&spans)[0];
    assert!(str_attr(one, "http.route")
        .unwrap()
        .starts_with("/users/{id}"));
    assert!(
        str_attr(one, "http.target").unwrap().starts_with("/users/"),
        "the path stays in http.target"
    );
    // Children are named after the server span.
    let child = children_of(&spans, one)[0];
    assert!(
        child.name.starts_with(&format!("{} http", one.name)),
        "{}",
        child.name
    );
}
