//! The caller's project from the API Gateway request context: a JWT claim (HTTP API) or a
//! Lambda-authorizer context value (HTTP or REST API), named by configuration.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use lambda_http::request::RequestContext;
use rules_api::CallerProject;

/// Adds [`CallerProject`] to each request whose authorizer established one.
pub fn with_caller_project(app: Router, claim: String) -> Router {
    app.layer(axum::middleware::from_fn(
        move |mut req: Request, next: Next| {
            let claim = claim.clone();
            async move {
                if let Some(project) = req
                    .extensions()
                    .get::<RequestContext>()
                    .and_then(|c| caller_project(c, &claim))
                {
                    req.extensions_mut().insert(CallerProject(project));
                }
                Ok::<Response, std::convert::Infallible>(next.run(req).await)
            }
        },
    ))
}

fn caller_project(ctx: &RequestContext, claim: &str) -> Option<String> {
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    match ctx {
        RequestContext::ApiGatewayV2(c) => {
            let authorizer = c.authorizer.as_ref()?;
            authorizer
                .jwt
                .as_ref()
                .and_then(|j| j.claims.get(claim).cloned())
                .or_else(|| authorizer.fields.get("lambda")?.get(claim).and_then(text))
        }
        RequestContext::ApiGatewayV1(c) => c
            .authorizer
            .fields
            .get(claim)
            .and_then(text)
            .or_else(|| c.authorizer.jwt.as_ref()?.claims.get(claim).cloned()),
        _ => None,
    }
}
