// Renders the OpenAPI document named by #swagger-ui's data-openapi-url (see jwtauthtest/apidocs/page.py).
"use strict";

window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    validatorUrl: null, // no badge from validator.swagger.io: no request leaves this origin
  });
});
