/**
 * CloudFront Function (cloudfront-js-2.0) on the viewer-response event of the
 * `/_wake/*` behaviour. The wake function answers 200 on purpose: an origin
 * 503 would make CloudFront replace the answer with its 503 error page (the
 * same wake page, as HTML), so `/_wake/status` could never return JSON. This
 * function turns the 200 into the 503 the viewer sees, keeping the body and
 * the Retry-After header. (The error-page path needs no help: the custom
 * error response already sets 503 for the viewer.)
 */
export const WAKE_VIEWER_RESPONSE_CODE = `function handler(event) {
  var response = event.response;
  if (response.statusCode === 200) {
    response.statusCode = 503;
    response.statusDescription = 'Service Unavailable';
  }
  return response;
}
`;
