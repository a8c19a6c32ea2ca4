//! CORS for the widget endpoints: only origins on `ALLOWED_ORIGINS`, echoed exactly, never `*`.

use worker::{Response, Result};

use crate::error::ApiError;

/// Answers a preflight request.
pub(crate) fn preflight(allowed_origin: Option<&str>) -> Result<Response> {
    match allowed_origin {
        Some(_) => {
            let mut response = Response::empty()?.with_status(204);
            let headers = response.headers_mut();
            headers.set("Access-Control-Allow-Methods", "GET, POST")?;
            headers.set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Edgepay-Hints")?;
            headers.set("Access-Control-Max-Age", "600")?;
            Ok(response)
        }
        None => ApiError::OriginNotAllowed.into_response(),
    }
}

/// Adds the CORS headers for an allowed origin, and `Vary: Origin` always.
pub(crate) fn decorate(mut response: Response, allowed_origin: Option<&str>) -> Result<Response> {
    let headers = response.headers_mut();
    headers.append("Vary", "Origin")?;
    if let Some(origin) = allowed_origin {
        headers.set("Access-Control-Allow-Origin", origin)?;
    }
    Ok(response)
}
