/// `GET /api/v1/openapi.json`. `OpenAPIDocumentTests` keeps its paths equal to the router's, and the test
/// suite runs schemathesis against a live server with it.
enum OpenAPIDocument {
    static let text = #"""
    {
      "openapi": "3.0.3",
      "info": {
        "title": "sandbox serve",
        "version": "1",
        "description": "The sandbox command line over HTTP. Objects are those of `--json` (docs/json.md); errors carry the codes of \#
    docs/errors.md. Every request needs `Authorization: Bearer <token>` or the login cookie; requests that change something are refused \#
    from other sites' pages. Operations that take time answer 202 with an operation; its progress is at /api/v1/operations/{id}/events \#
    (Server-Sent Events)."
      },
      "security": [{"bearer": []}, {"cookie": []}],
      "paths": {
        "/api/v1/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3", \#
    "content": {"application/json": {"schema": {"type": "object"}}}}, "default": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/checkouts": {"get": {"summary": "The checkouts this server serves", "responses": {"200": {"description": "checkouts", \#
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Checkouts"}}}}, \#
    "default": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/checkouts/{checkout}/update": {"post": {"summary": "Follow the branch now: fetch, fast-forward only, then up of every \#
    instance not at the new commit (\"update now\"); refused with a reason and fix for local changes or a diverged branch",
          "parameters": [{"name": "checkout", "in": "path", "required": true, "schema": {"type": "string"}}],
          "responses": {"202": {"description": "asked; progress in /api/v1/checkouts and /api/v1/operations", \#
    "content": {"application/json": {"schema": {"type": "object", "required": ["checkout", "follow"], \#
    "properties": {"checkout": {"type": "string"}, "follow": {"$ref": "#/components/schemas/Follow"}}}}}}, \#
    "default": {"$ref": "#/components/responses/Error"}}}},
        "/hooks/git": {"post": {"summary": "A push event from GitHub, Gitea/Forgejo or GitLab, signed with SANDBOX_HOOK_SECRET \#
    (X-Hub-Signature-256: sha256=HMAC-SHA256 of the body, X-Gitea-Signature, or X-Gitlab-Token); each served checkout on the pushed \#
    branch is followed. Needs no bearer token.",
          "security": [],
          "parameters": [{"name": "X-Hub-Signature-256", "in": "header", "schema": {"type": "string"}}, {"name": "X-Gitlab-Token", \#
    "in": "header", "schema": {"type": "string"}}],
          "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", \#
    "properties": {"ref": {"type": "string"}, "after": {"type": "string"}}}}}},
          "responses": {"200": {"$ref": "#/components/responses/Hook"}, "202": {"$ref": "#/components/responses/Hook"}, \#
    "default": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/instances": {"get": {"summary": "Every instance of every served checkout (`sandbox ls --json`, each with its checkout)", \#
    "responses": {"200": {"description": "instances", "content": {"application/json": {"schema": {"$ref": \#
    "#/components/schemas/InstanceList"}}}}, "default": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/instances/{instance}": {"get": {"summary": "An instance's services, states and URLs (`sandbox status --json`)",
          "parameters": [{"$ref": "#/components/parameters/instance"}, {"$ref": "#/components/parameters/checkout"}, \#
    {"$ref": "#/components/parameters/sandbox"},
                         {"name": "secrets", "in": "query", "schema": {"type": "boolean"}, "description": "show passwords in URLs"}],
          "responses": {"200": {"description": "status", "content": {"application/json": {"schema": {"$ref": \#
    "#/components/schemas/Status"}}}}, "default": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/instances/{instance}/env": {"get": {"summary": "The instance's variables (`sandbox env --json`), passwords included",
          "parameters": [{"$ref": "#/components/parameters/instance"}, {"$ref": "#/components/parameters/checkout"}, \#
    {"$ref": "#/components/parameters/sandbox"}],
          "responses": {"200": {"description": "variables", "content": {"application/json": {"schema": {"type": "object", \#
    "additionalProperties": {"type": "string"}}}}}, "default": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/instances/{instance}/plan": {"get": {"summary": "What an operation would do (`sandbox plan --json`)",
          "parameters": [{"$ref": "#/components/parameters/instance"}, {"$ref": "#/components/parameters/checkout"}, \#
    {"$ref": "#/components/parameters/sandbox"},
                         {"name": "action", "in": "query", "schema": {"type": "string", "enum": ["up", "reset", "down", "destroy", "restore"]}},
                         {"name": "snapshot", "in": "query", "schema": {"type": "string"}, "description": "with action=restore"},
                         {"$ref": "#/components/parameters/deleteData"}],
          "responses": {"200": {"description": "plan", "content": {"application/json": {"schema": {"$ref": \#
    "#/components/schemas/Plan"}}}}, "default": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/instances/{instance}/up": {"post": {"summary": "Install or update the instance (`sandbox up`)", \#
    "parameters": [{"$ref": "#/components/parameters/instance"}, {"$ref": "#/components/parameters/checkout"}, \#
    {"$ref": "#/components/parameters/sandbox"}], "responses": {"202": {"$ref": "#/components/responses/Accepted"}, \#
    "default": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/instances/{instance}/down": {"post": {"summary": "Stop the instance, keeping its data (`sandbox down`)", \#
    "parameters": [{"$ref": "#/components/parameters/instance"}, {"$ref": "#/components/parameters/checkout"}, \#
    {"$ref": "#/components/parameters/sandbox"}], "responses": {"202": {"$ref": "#/components/responses/Accepted"}, \#
    "default": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/instances/{instance}/reset": {"post": {"summary": "Throw away the instance's data and start from fresh data (`sandbox \#
    reset`)", "parameters": [{"$ref": "#/components/parameters/instance"}, {"$ref": "#/components/parameters/checkout"}, \#
    {"$ref": "#/components/parameters/sandbox"}], "responses": {"202": {"$ref": "#/components/responses/Accepted"}, \#
    "default": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/instances/{instance}/destroy": {"post": {"summary": "Remove the instance's containers, and with deleteData its data \#
    (`sandbox destroy`)", "parameters": [{"$ref": "#/components/parameters/instance"}, {"$ref": "#/components/parameters/checkout"}, \#
    {"$ref": "#/components/parameters/sandbox"}, {"$ref": "#/components/parameters/deleteData"}], \#
    "responses": {"202": {"$ref": "#/components/responses/Accepted"}, "default": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/instances/{instance}/snapshots": {
          "get": {"summary": "The instance's snapshots (`sandbox snapshot ls --json`)", "parameters": [{"$ref": \#
    "#/components/parameters/instance"}, {"$ref": "#/components/parameters/checkout"}, {"$ref": "#/components/parameters/sandbox"}],
                  "responses": {"200": {"description": "snapshots", "content": {"application/json": {"schema": {"$ref": \#
    "#/components/schemas/Snapshots"}}}}, "default": {"$ref": "#/components/responses/Error"}}},
          "post": {"summary": "Save a snapshot (`sandbox snapshot save NAME`)", "parameters": [{"$ref": \#
    "#/components/parameters/instance"}, {"$ref": "#/components/parameters/checkout"}, {"$ref": "#/components/parameters/sandbox"}],
                   "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["name"], \#
    "properties": {"name": {"$ref": "#/components/schemas/SnapshotName"}}}}}},
                   "responses": {"202": {"$ref": "#/components/responses/Accepted"}, "default": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/instances/{instance}/snapshots/{snapshot}/restore": {"post": {"summary": "Replace the instance's data with a snapshot's \#
    (`sandbox snapshot restore NAME`)",
          "parameters": [{"$ref": "#/components/parameters/instance"}, {"name": "snapshot", "in": "path", "required": true, \#
    "schema": {"$ref": "#/components/schemas/SnapshotName"}}, {"$ref": "#/components/parameters/checkout"}, \#
    {"$ref": "#/components/parameters/sandbox"}],
          "responses": {"202": {"$ref": "#/components/responses/Accepted"}, "default": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/instances/{instance}/snapshots/{snapshot}": {"delete": {"summary": "Delete a snapshot, freeing what it alone holds \#
    (`sandbox snapshot delete NAME`)",
          "parameters": [{"$ref": "#/components/parameters/instance"}, {"name": "snapshot", "in": "path", "required": true, \#
    "schema": {"$ref": "#/components/schemas/SnapshotName"}}, {"$ref": "#/components/parameters/checkout"}, \#
    {"$ref": "#/components/parameters/sandbox"}],
          "responses": {"202": {"$ref": "#/components/responses/Accepted"}, "default": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/instances/{instance}/logs/{service}": {"get": {"summary": "A service's output: the last lines, or with follow=true a stream of `line` events",
          "parameters": [{"$ref": "#/components/parameters/instance"}, {"name": "service", "in": "path", "required": true, \#
    "schema": {"type": "string"}}, {"$ref": "#/components/parameters/checkout"}, {"$ref": "#/components/parameters/sandbox"},
                         {"name": "tail", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 100000}}, \#
    {"name": "follow", "in": "query", "schema": {"type": "boolean"}}],
          "responses": {"200": {"description": "lines", "content": {"application/json": {"schema": {"$ref": \#
    "#/components/schemas/Logs"}}, "text/event-stream": {"schema": {"type": "object", "required": ["data"], \#
    "properties": {"event": {"type": "string"}, "data": {"type": "string"}}}}}}, "default": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/operations": {"get": {"summary": "Recent operations, newest first", "responses": {"200": {"description": "operations", \#
    "content": {"application/json": {"schema": {"type": "object", "required": ["operations"], \#
    "properties": {"operations": {"type": "array", "items": {"$ref": "#/components/schemas/Operation"}}}}}}}, \#
    "default": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/operations/{id}": {
          "get": {"summary": "One operation with its events", "parameters": [{"$ref": "#/components/parameters/id"}], \#
    "responses": {"200": {"description": "operation", "content": {"application/json": {"schema": {"$ref": \#
    "#/components/schemas/Operation"}}}}, "default": {"$ref": "#/components/responses/Error"}}},
          "delete": {"summary": "Cancel: a queued operation never starts; a running one is stopped, and the next up finishes or undoes \#
    what it began", "parameters": [{"$ref": "#/components/parameters/id"}], "responses": {"200": {"description": "operation", \#
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Operation"}}}}, \#
    "default": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/operations/{id}/events": {"get": {"summary": "Server-Sent Events: the operation's `--json` events (event name = the \#
    object's `event`), then `end` with the finished operation", "parameters": [{"$ref": "#/components/parameters/id"}], \#
    "responses": {"200": {"description": "events", "content": {"text/event-stream": {"schema": {"type": "object", "required": ["data"], \#
    "properties": {"event": {"type": "string"}, "data": {"type": "string"}}}}}}, "default": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/events": {"get": {"summary": "Server-Sent Events of every operation: `update` {operation, event}, `end` with a finished \#
    operation", "responses": {"200": {"description": "events", "content": {"text/event-stream": {"schema": {"type": "object", \#
    "required": ["data"], "properties": {"event": {"type": "string"}, "data": {"type": "string"}}}}}}, \#
    "default": {"$ref": "#/components/responses/Error"}}}}
      },
      "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}, "cookie": {"type": "apiKey", "in": "cookie", "name": "sandbox_token"}},
        "parameters": {
          "instance": {"name": "instance", "in": "path", "required": true, "schema": {"type": "string", \#
    "pattern": "^[a-z0-9][a-z0-9_-]{0,39}$"}, "description": "the instance name, e.g. dev (lower-case letters, digits, '-', '_'; 'golden' \#
    is reserved)"},
          "checkout": {"name": "checkout", "in": "query", "schema": {"type": "string"}, "description": "a checkout id from \#
    /api/v1/checkouts (default: the first)"},
          "sandbox": {"name": "sandbox", "in": "query", "schema": {"type": "string"}, "description": "the sandbox, when the checkout has several"},
          "deleteData": {"name": "deleteData", "in": "query", "schema": {"type": "boolean"}},
          "id": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}
        },
        "responses": {
          "Error": {"description": "an error with its code (docs/errors.md) and fix", "content": {"application/json": {"schema": {"$ref": \#
    "#/components/schemas/Error"}}}},
          "Hook": {"description": "what the event caused", "content": {"application/json": {"schema": {"type": "object", \#
    "required": ["event", "result"], "properties": {"event": {"type": "string"}, "result": {"type": "string"}, \#
    "branch": {"type": "string"}, "commit": {"type": "string"}, "checkouts": {"type": "array", "items": {"type": "string"}}}}}}},
          "Accepted": {"description": "queued; see Location", "headers": {"Location": {"schema": {"type": "string"}}}, \#
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Operation"}}}}
        },
        "schemas": {
          "SnapshotName": {"type": "string", "pattern": "^[A-Za-z0-9_][A-Za-z0-9._-]{0,59}$"},
          "Error": {"type": "object", "required": ["event", "code", "message"], "properties": {"event": {"type": "string", \#
    "enum": ["error"]}, "code": {"type": "string"}, "message": {"type": "string"}, "fix": {"type": "string"}, \#
    "diagnostics": {"type": "array", "items": {"type": "object"}}}},
          "Service": {"type": "object", "required": ["service", "state"], "properties": {"service": {"type": "string"}, \#
    "state": {"type": "string", "enum": ["running", "restarting", "paused", "exited", "dead", "created", "removing", "stopped", \#
    "absent"]}, "port": {"type": "integer", "nullable": true}, "url": {"type": "string", "nullable": true}, \#
    "container": {"type": "string", "nullable": true}, "image": {"type": "string", "nullable": true}, "dataDir": {"type": "string", \#
    "nullable": true}}},
          "Status": {"type": "object", "required": ["event", "instance", "sandbox", "services"], \#
    "properties": {"event": {"type": "string"}, "instance": {"type": "string"}, "sandbox": {"type": "string"}, \#
    "commit": {"type": "string"}, "services": {"type": "array", "items": {"$ref": "#/components/schemas/Service"}}}},
          "InstanceList": {"type": "object", "required": ["instances"], "properties": {"instances": {"type": "array", \#
    "items": {"type": "object", "required": ["instance", "sandbox", "services", "checkout"], \#
    "properties": {"instance": {"type": "string"}, "sandbox": {"type": "string"}, "checkout": {"type": "string"}, \#
    "commit": {"type": "string"}, "services": {"type": "array", "items": {"$ref": "#/components/schemas/Service"}}}}}}},
          "Checkouts": {"type": "object", "required": ["checkouts"], "properties": {"checkouts": {"type": "array", \#
    "items": {"type": "object", "required": ["id", "path", "sandboxes"], "properties": {"id": {"type": "string"}, \#
    "path": {"type": "string"}, "sandboxes": {"type": "array", "items": {"type": "string"}}, \#
    "follow": {"$ref": "#/components/schemas/Follow"}}}}}},
          "Follow": {"type": "object", "required": ["state", "runs"], "description": "following the branch: state is idle, checking, \#
    updating, up-to-date, updated, refused or failed; reason and fix say why when refused or failed",
            "properties": {"state": {"type": "string", "enum": ["idle", "checking", "updating", "up-to-date", "updated", "refused", \#
    "failed"]}, "runs": {"type": "integer"},
                           "branch": {"type": "string", "nullable": true}, "commit": {"type": "string", "nullable": true}, \#
    "upstream": {"type": "string", "nullable": true},
                           "upstreamCommit": {"type": "string", "nullable": true}, "behind": {"type": "integer", "nullable": true}, \#
    "reason": {"type": "string", "nullable": true},
                           "fix": {"type": "string", "nullable": true}, "result": {"type": "string", "nullable": true}, \#
    "checked": {"type": "string", "nullable": true}}},
          "Plan": {"type": "object", "required": ["event", "noop", "actions"], "properties": {"event": {"type": "string", \#
    "enum": ["plan"]}, "noop": {"type": "boolean"}, "problems": {"type": "array", "items": {"type": "object", "required": ["code", \#
    "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "fix": {"type": "string"}}}}, \#
    "actions": {"type": "array", "items": {"type": "object", "required": ["target", "action"], \#
    "properties": {"target": {"type": "string"}, "action": {"type": "string"}, "cause": {"type": "string"}}}}}},
          "Snapshots": {"type": "object", "required": ["snapshots"], "properties": {"event": {"type": "string"}, \#
    "snapshots": {"type": "array", "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, \#
    "sandbox": {"type": "string"}, "created": {"type": "string", "format": "date-time"}, "services": {"type": "object"}, \#
    "bytes": {"type": "integer", "minimum": 0}, "exclusiveBytes": {"type": "integer", "minimum": 0, \#
    "description": "what deleting it frees: its blocks not shared by reflink"}}}}}},
          "Logs": {"type": "object", "required": ["service", "lines"], "properties": {"service": {"type": "string"}, \#
    "lines": {"type": "array", "items": {"type": "string"}}}},
          "Operation": {"type": "object", "required": ["id", "kind", "checkout", "instance", "state", "created", "events"],
            "properties": {"id": {"type": "string"}, "kind": {"type": "string", "enum": ["up", "down", "reset", "destroy", \#
    "snapshot-save", "snapshot-restore", "snapshot-delete"]},
                           "checkout": {"type": "string"}, "instance": {"type": "string"}, "state": {"type": "string", "enum": ["queued", \#
    "running", "succeeded", "failed", "cancelled"]},
                           "created": {"type": "string"}, "started": {"type": "string", "nullable": true}, "finished": {"type": "string", "nullable": true},
                           "events": {"type": "array", "items": {"type": "object"}}, "messages": {"type": "array", "items": {"type": "string"}},
                           "result": {"type": "object", "nullable": true}, "error": {"allOf": [{"$ref": "#/components/schemas/Error"}], "nullable": true}}}
        }
      }
    }
    """#
}
