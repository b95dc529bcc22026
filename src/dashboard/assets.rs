//! The pages: one HTML shell (navigation, a `<main>` the page script fills) served at each
//! page's stable path, plus the CSS and vanilla JS files, all compiled into the binary with
//! `include_str!` (no CDN, no Node at build time). Charts are drawn as SVG by `app.js`.

use actix_web::{web, HttpResponse};

/// (path, page id, title) of every page.
pub const PAGES: &[(&str, &str, &str)] = &[
    ("/", "cluster", "Cluster"),
    ("/topics", "topics", "Topics"),
    ("/groups", "groups", "Consumer groups"),
    ("/producers", "producers", "Producers"),
    ("/messages", "messages", "Messages"),
    ("/dlq", "dlq", "Dead letters"),
    ("/trace", "trace", "Message trace"),
];

const SHELL: &str = include_str!("assets/page.html");

/// (file name, content type, content) of the static files.
const FILES: &[(&str, &str, &str)] = &[
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("assets/style.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/app.js"),
    ),
    (
        "cluster.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/cluster.js"),
    ),
    (
        "topics.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/topics.js"),
    ),
    (
        "groups.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/groups.js"),
    ),
    (
        "producers.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/producers.js"),
    ),
    (
        "messages.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/messages.js"),
    ),
    (
        "dlq.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/dlq.js"),
    ),
    (
        "trace.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/trace.js"),
    ),
];

/// The shell of page `id` titled `title`, its navigation marking it current.
pub fn render(id: &str, title: &str) -> String {
    let nav: String = PAGES
        .iter()
        .map(|(path, pid, t)| {
            let cur = if *pid == id {
                " aria-current=\"page\""
            } else {
                ""
            };
            format!("<a href=\"{path}\"{cur}>{t}</a>")
        })
        .collect();
    SHELL
        .replace("{{title}}", title)
        .replace("{{nav}}", &nav)
        .replace("{{page}}", id)
}

async fn file(name: web::Path<String>) -> HttpResponse {
    match FILES.iter().find(|(n, _, _)| *n == name.as_str()) {
        Some((_, ctype, body)) => HttpResponse::Ok()
            .content_type(*ctype)
            .insert_header(("Cache-Control", "no-cache"))
            .body(*body),
        None => HttpResponse::NotFound()
            .content_type("text/plain")
            .body("no such file"),
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    for (path, id, title) in PAGES {
        let html = render(id, title);
        cfg.route(
            path,
            web::get().to(move || {
                let html = html.clone();
                async move {
                    HttpResponse::Ok()
                        .content_type("text/html; charset=utf-8")
                        .body(html)
                }
            }),
        );
    }
    cfg.route("/assets/{name}", web::get().to(file));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_has_its_script_and_nav() {
        for (_, id, title) in PAGES {
            let html = render(id, title);
            assert!(html.contains(&format!("/assets/{id}.js")), "{id}");
            assert!(html.contains("aria-current"));
            assert!(FILES.iter().any(|(n, _, _)| *n == format!("{id}.js")));
        }
    }
}
