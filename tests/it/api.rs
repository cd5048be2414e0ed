//! The staff API: authentication, roles, problem documents, the news life
//! cycle, and its durability.

use crate::harness::*;
use serde_json::{Value, json};

#[tokio::test]
async fn api_requires_a_known_bearer_token() {
    let install = Install::standard();
    let d = install.start().await;
    for auth in [
        None,
        Some("Bearer nope-not-a-token-at-all"),
        Some("Basic abc"),
    ] {
        let mut req = d.http.get(d.url("/api/v1/news"));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401, "{auth:?}");
        assert_eq!(
            resp.headers()["content-type"],
            "application/problem+json",
            "{auth:?}"
        );
        assert!(resp.headers().contains_key("www-authenticate"));
        let p: Value = resp.json().await.unwrap();
        assert_eq!(p["status"], 401);
        assert_eq!(p["title"], "Unauthorized");
    }
    // The sources list is staff-only too.
    let resp = d.http.get(d.url("/api/v1/sources")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    d.stop().await;
}

#[tokio::test]
async fn viewer_can_read_but_not_write() {
    let install = Install::standard();
    let d = install.start().await;
    let resp = d
        .http
        .post(d.url("/api/v1/news"))
        .bearer_auth(VIEWER_TOKEN)
        .json(&json!({"title": {"ar": "خبر"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let resp = d
        .http
        .get(d.url("/api/v1/news"))
        .bearer_auth(VIEWER_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let list: Value = resp.json().await.unwrap();
    assert_eq!(list["total"], 0);
    d.stop().await;
}

#[tokio::test]
async fn bad_input_is_a_problem_document_listing_every_field() {
    let install = Install::standard();
    let d = install.start().await;
    let resp = d
        .post_news(json!({"link": "javascript:alert(1)", "media": [{"url": "x", "mime_type": "image/png"}]}))
        .await;
    assert_eq!(resp.status(), 422);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let p: Value = resp.json().await.unwrap();
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["title", "link", "media[0].url"]);

    let resp = d
        .http
        .post(d.url("/api/v1/news"))
        .bearer_auth(EDITOR_TOKEN)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");

    let resp = d
        .post_news(json!({"title": {"ar": "x"}, "surprise": 1}))
        .await;
    assert_eq!(resp.status(), 400, "unknown fields are refused");

    let big = "ا".repeat(1024 * 1024);
    let resp = d.post_news(json!({"title": {"ar": big}})).await;
    assert_eq!(
        resp.status(),
        413,
        "bodies over http.max_body_bytes are refused"
    );

    let resp = d
        .http
        .get(d.url("/api/v1/nothing-here"))
        .bearer_auth(EDITOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    d.stop().await;
}

#[tokio::test]
async fn news_life_cycle_create_update_retract() {
    let install = Install::standard();
    let d = install.start().await;
    let resp = d
        .post_news(json!({
            "title": {"ar": "إطلاق خدمة جديدة", "en": "A new service"},
            "body": {"ar": "<p>نص <script>alert(1)</script></p>", "en": "<p>Text</p>"},
            "categories": ["خدمات", "خدمات"],
            "media": [{"url": "https://cdn.example.om/a.jpg", "mime_type": "image/jpeg", "length": 1234}],
            "author": "المكتب الإعلامي"
        }))
        .await;
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(resp.headers()["etag"], "\"r0\"");
    let created: Value = resp.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(location, format!("/api/v1/news/{id}"));
    assert_eq!(created["state"], "live");
    assert_eq!(created["categories"], json!(["خدمات"]));
    assert!(!created["body"]["ar"].as_str().unwrap().contains("script"));

    let got: Value = d
        .http
        .get(d.url(&location))
        .bearer_auth(VIEWER_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["title"]["ar"], "إطلاق خدمة جديدة");

    // A stale If-Match is refused; the current one wins.
    let update = json!({"title": {"ar": "إطلاق خدمة محدثة"}});
    let resp = d
        .http
        .put(d.url(&location))
        .bearer_auth(EDITOR_TOKEN)
        .header("if-match", "\"r7\"")
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 412);
    let resp = d
        .http
        .put(d.url(&location))
        .bearer_auth(EDITOR_TOKEN)
        .header("if-match", "\"r0\"")
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let updated: Value = resp.json().await.unwrap();
    assert_eq!(updated["revision"], 1);
    assert_eq!(updated["id"], id.as_str());

    let resp = d
        .http
        .delete(d.url(&location))
        .bearer_auth(EDITOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let retracted: Value = resp.json().await.unwrap();
    assert_eq!(retracted["state"], "retracted");
    // Soft removal: still readable, listed as retracted.
    let list: Value = d
        .get_json("/api/v1/news?state=retracted", VIEWER_TOKEN)
        .await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], id.as_str());
    // Editing a retracted item is a conflict.
    let resp = d
        .http
        .put(d.url(&location))
        .bearer_auth(EDITOR_TOKEN)
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
    d.stop().await;
}

#[tokio::test]
async fn acknowledged_news_survives_a_restart_of_the_store() {
    let install = Install::standard();
    let d = install.start().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let resp = d
            .post_news(json!({"title": {"en": format!("Item {i}")}}))
            .await;
        assert_eq!(resp.status(), 201);
        let v: Value = resp.json().await.unwrap();
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    d.stop().await;
    let d = install.start().await;
    let list: Value = d.get_json("/api/v1/news?origin=staff", VIEWER_TOKEN).await;
    let mut got: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    ids.sort();
    assert_eq!(got, ids);
    d.stop().await;
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let install = Install::standard();
    let d = install.start().await;
    d.http.get(d.url("/api/v1/news")).send().await.unwrap();
    d.http.get(d.url("/healthz")).send().await.unwrap();
    let text = d
        .http
        .get(d.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            r#"musharaka_http_requests_total{route="/api/v1/news",method="GET",status="401"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains(
        r#"musharaka_http_requests_total{route="/healthz",method="GET",status="200"} 1"#
    ));
    assert!(text.contains("# TYPE musharaka_polls_total counter"));
    let ready = d.http.get(d.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    d.stop().await;
}

#[tokio::test]
async fn a_retried_create_with_the_same_idempotency_key_creates_one_item() {
    let install = Install::standard();
    let d = install.start().await;
    let post = |token: &'static str, key: &'static str| {
        d.http
            .post(d.url("/api/v1/news"))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(&json!({"title": {"ar": "خبر يعاد إرساله"}}))
            .send()
    };
    let first = post(EDITOR_TOKEN, "k-1").await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = post(EDITOR_TOKEN, "k-1").await.unwrap();
    assert_eq!(again.status(), 200, "a replay does not create");
    let again: Value = again.json().await.unwrap();
    assert_eq!(first["id"], again["id"]);
    // Keys belong to one staff member; a new key creates a new item.
    assert_eq!(post(ADMIN_TOKEN, "k-1").await.unwrap().status(), 201);
    assert_eq!(post(EDITOR_TOKEN, "k-2").await.unwrap().status(), 201);
    let list = d.get_json("/api/v1/news", VIEWER_TOKEN).await;
    assert_eq!(list["total"], 3);
    d.stop().await;
}
