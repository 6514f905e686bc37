//! Behind API Gateway: API Gateway's request id as the request's id, so that logs and answers
//! match its access logs; and, where a gateway authorizer establishes the caller (JWT mode), the
//! caller's project from the request context: a JWT claim (HTTP API) or a Lambda-authorizer
//! context value (HTTP or REST API), named by configuration.

use crate::{CallerName, CallerProject, SourceIp};
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use lambda_http::request::RequestContext;

/// Adds an `X-Request-Id` from the request context when the caller sent none and, given the
/// `claim` that names it, [`CallerProject`] to each request whose authorizer established one.
pub fn with_gateway_context(app: Router, claim: Option<String>) -> Router {
    app.layer(axum::middleware::from_fn(
        move |mut req: Request, next: Next| {
            let claim = claim.clone();
            async move {
                let ctx = req.extensions().get::<RequestContext>().cloned();
                if let Some(ctx) = ctx {
                    if let Some(project) = claim.as_deref().and_then(|c| caller_project(&ctx, c)) {
                        req.extensions_mut().insert(CallerProject(project));
                    }
                    if let Some(subject) = caller_subject(&ctx) {
                        req.extensions_mut().insert(CallerName(subject));
                    }
                    if let Some(ip) = source_ip(&ctx) {
                        req.extensions_mut().insert(SourceIp(ip));
                    }
                    let id =
                        gateway_request_id(&ctx).and_then(|id| HeaderValue::from_str(&id).ok());
                    if let (Some(id), false) = (id, req.headers().contains_key("x-request-id")) {
                        req.headers_mut().insert("x-request-id", id);
                    }
                }
                Ok::<Response, std::convert::Infallible>(next.run(req).await)
            }
        },
    ))
}

fn gateway_request_id(ctx: &RequestContext) -> Option<String> {
    match ctx {
        RequestContext::ApiGatewayV2(c) => c.request_id.clone(),
        RequestContext::ApiGatewayV1(c) => c.request_id.clone(),
        _ => None,
    }
}

/// The JWT's `sub`, or a Lambda authorizer's `principalId`.
fn caller_subject(ctx: &RequestContext) -> Option<String> {
    authorizer_value(ctx, "sub", "principalId")
}

fn source_ip(ctx: &RequestContext) -> Option<String> {
    match ctx {
        RequestContext::ApiGatewayV2(c) => c.http.source_ip.clone(),
        RequestContext::ApiGatewayV1(c) => c.identity.source_ip.clone(),
        _ => None,
    }
}

fn caller_project(ctx: &RequestContext, claim: &str) -> Option<String> {
    authorizer_value(ctx, claim, claim)
}

/// The JWT's `claim` or the Lambda authorizer's context `field`, whichever the API's kind
/// carries first.
fn authorizer_value(ctx: &RequestContext, claim: &str, field: &str) -> Option<String> {
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    match ctx {
        RequestContext::ApiGatewayV2(c) => {
            let authorizer = c.authorizer.as_ref()?;
            authorizer
                .jwt
                .as_ref()
                .and_then(|j| j.claims.get(claim).cloned())
                .or_else(|| authorizer.fields.get(field).and_then(text))
        }
        RequestContext::ApiGatewayV1(c) => c
            .authorizer
            .fields
            .get(field)
            .and_then(text)
            .or_else(|| c.authorizer.jwt.as_ref()?.claims.get(claim).cloned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http_api_context(authorizer: serde_json::Value) -> RequestContext {
        let ctx = serde_json::json!({
            "accountId": "123456789012", "apiId": "api", "domainName": "d", "domainPrefix": "d",
            "http": {"method": "GET", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "t"},
            "requestId": "r", "routeKey": "$default", "stage": "$default", "time": "t", "timeEpoch": 0,
            "authorizer": authorizer
        });
        RequestContext::ApiGatewayV2(serde_json::from_value(ctx).unwrap())
    }

    #[test]
    fn the_project_comes_from_a_jwt_claim_or_an_authorizer_context() {
        let jwt = http_api_context(
            serde_json::json!({"jwt": {"claims": {"project_id": "p-jwt"}, "scopes": []}}),
        );
        assert_eq!(caller_project(&jwt, "project_id").as_deref(), Some("p-jwt"));
        let lambda = http_api_context(serde_json::json!({"lambda": {"tenant": "p-lambda"}}));
        assert_eq!(
            caller_project(&lambda, "tenant").as_deref(),
            Some("p-lambda")
        );
        assert_eq!(caller_project(&lambda, "project_id"), None);
    }
}
