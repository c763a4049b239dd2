// /api/v1/docs: Swagger UI (static/dist/swagger-ui, from npm) renders the API's own OpenAPI document.
// A file, not an inline script: the Content-Security-Policy allows scripts from this site only.
(function () {
  'use strict';

  function start() {
    var root = document.getElementById('swagger-ui');
    if (!root) { return; }
    if (typeof window.SwaggerUIBundle !== 'function') {
      root.textContent = root.dataset.failed;
      return;
    }
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

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
}());
