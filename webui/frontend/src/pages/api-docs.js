// /api/v1/docs: Swagger UI renders the API's own OpenAPI document. swagger-ui-dist's prebuilt bundle
// (static/dist/swagger-ui, a classic deferred script before this module) is the one global read here:
// it is Swagger's own build, not one of ours. A file, not an inline script: the CSP allows this site only.
const root = document.getElementById('swagger-ui');

if (root && typeof window.SwaggerUIBundle !== 'function') {
  root.textContent = root.dataset.failed;
} else if (root) {
  window.SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    deepLinking: true,
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
    // no call to the public validator service: the page talks to this site only
    validatorUrl: null
  });
}
