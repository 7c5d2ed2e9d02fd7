import Foundation
import Testing

/// Golden diagnostics for typed parameters, SQL filters and secrets kept out of the container's configuration.
@Suite struct TypedRecipeDiagnosticTests {
    static let app = "service: {run-as: app, port: 8080, engine: app, version: \"1\", start: app, ready: \"true\"}\n"
    static let shop = "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: app\n"

    @Test func aLiteralIdentifierIsCheckedWhereItIsWritten() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": """
            sandbox: shop
            owner: acme
            services:
              db:
                image: postgresql-15
                setup:
                  - create-database: {name: 'my db'}
                  - create-database: {name: ok_name, owner: 9lives}
                  - create-user: {name: "{env.USER_NAME}", secret: "any 'thing', even {{braces}}"}
                  - create-user: {name: app_user, secret: ""}
            """,
        ]) == #"""
        Recipes/shop.yml:7:33: error: 'my db' is not a valid identifier for parameter 'name' of action 'create-database': use letters, digits and '_' (up to 63), starting with a letter or '_'
              - create-database: {name: 'my db'}
                                        ^
        Recipes/shop.yml:8:49: error: '9lives' is not a valid identifier for parameter 'owner' of action 'create-database': use letters, digits and '_' (up to 63), starting with a letter or '_'
              - create-database: {name: ok_name, owner: 9lives}
                                                        ^
        """#)
    }

    @Test func parameterTypesAndIdentifierDefaults() throws {
        #expect(try diagnose([
            "Images/app.yml": """
            image: app
            from: postgresql-15
            actions:
              grant:
                params: {role: {type: identifier, default: "read only"}, db: identifer}
                run: printf 'GRANT %s ON %s;\\n' {role|ident} {db|ident} | psql
            """,
            "Recipes/shop.yml": Self.shop,
        ]) == #"""
        Images/app.yml:5:48: error: the default 'read only' is not a valid identifier for parameter 'role' of action 'grant': use letters, digits and '_' (up to 63), starting with a letter or '_'
            params: {role: {type: identifier, default: "read only"}, db: identifer}
                                                       ^
        Images/app.yml:5:66: error: parameter type must be string, identifier, name, secret, file or files, not 'identifer' (did you mean 'identifier'?)
            params: {role: {type: identifier, default: "read only"}, db: identifer}
                                                                         ^
        Images/app.yml:6:50: error: unknown reference '{db}' in action 'grant'; known here: {user}, {password}, {port}, {data}, {run-as}, {role}
            run: printf 'GRANT %s ON %s;\n' {role|ident} {db|ident} | psql
                                                         ^
        Recipes/shop.yml:5:12: error: image recipe 'app' in Images/app.yml has errors (listed with it); fix them first
            image: app
                   ^
        """#)
    }

    @Test func aFilterNeedsAServiceThatDeclaresSQLQuoting() throws {
        #expect(try diagnose([
            "Images/app.yml": """
            image: app
            from: debian:bookworm
            service:
              run-as: app
              port: 6379
              engine: redis
              version: "7"
              init:
                - "redis-cli config set requirepass {password|literal}"
              start: redis-server --port {port}
              ready: redis-cli ping
            actions:
              flush: printf 'FLUSHDB %s\\n' {name|literal} | redis-cli
              count: "redis-cli dbsize {db|quoted}"
            """,
            "Recipes/shop.yml": Self.shop,
        ]) == #"""
        Images/app.yml:9:41: error: '{password|literal}' quotes for SQL, but the service (engine 'redis') declares no SQL quoting; say how under 'service.sql' (docs/recipes.md, "SQL quoting"), or drop the filter
            - "redis-cli config set requirepass {password|literal}"
                                                ^
        Images/app.yml:13:32: error: '{name|literal}' quotes for SQL, but the service (engine 'redis') declares no SQL quoting; say how under 'service.sql' (docs/recipes.md, "SQL quoting"), or drop the filter
          flush: printf 'FLUSHDB %s\n' {name|literal} | redis-cli
                                       ^
        Images/app.yml:14:28: error: '{db|quoted}' has an unknown filter 'quoted'; filters are |ident and |literal
          count: "redis-cli dbsize {db|quoted}"
                                   ^
        Recipes/shop.yml:5:12: error: image recipe 'app' in Images/app.yml has errors (listed with it); fix them first
            image: app
                   ^
        """#)
    }

    @Test func anInheritedFilterIsCheckedAgainstTheEngineItRunsUnder() throws {
        #expect(try diagnose([
            "Images/base.yml": "image: base\nfrom: debian:bookworm\nservice: {run-as: app, port: 5432, engine: postgresql, version: \"1\", start: app, ready: \"true\",\n  sql: {identifier: {quote: \"`\", escape: {\"`\": \"``\"}}, literal: {quote: \"`\", escape: {\"`\": \"``\"}}}}\nactions:\n  drop: printf 'DROP DATABASE %s;\\n' {name|ident} | psql\n",
            "Images/app.yml": "image: app\nfrom: base\n" + Self.app,
            "Recipes/shop.yml": Self.shop,
        ]) == #"""
        Images/base.yml:6:38: error: '{name|ident}' quotes for SQL, but the service (engine 'app') declares no SQL quoting; say how under 'service.sql' (docs/recipes.md, "SQL quoting"), or drop the filter
          drop: printf 'DROP DATABASE %s;\n' {name|ident} | psql
                                             ^
        """#)
    }

    @Test func filtersBelongInImageRecipeCommandsOnly() throws {
        #expect(try diagnose([
            "Images/app.yml": "image: app\nfrom: postgresql-15\nservice:\n  run-as: app\n  port: 5432\n  engine: postgresql\n  version: \"1\"\n  user: app\n  start: app\n  ready: \"true\"\n  url: \"postgres://{user|ident}@{host}:{port}/\"\n",
            "Recipes/shop.yml": Self.shop + "    setup:\n      - create-database: {name: \"{env.DB|ident}\"}\nenv:\n  URL: \"{db.user|literal}\"\n",
        ]) == #"""
        Images/app.yml:11:20: error: '{user|ident}' quotes for SQL, which has no place in 'url'; write {user}
          url: "postgres://{user|ident}@{host}:{port}/"
                           ^
        Recipes/shop.yml:7:34: error: '{env.DB|ident}': SQL filters belong in image recipes, whose actions quote their parameters for their engine; pass the plain value
              - create-database: {name: "{env.DB|ident}"}
                                         ^
        Recipes/shop.yml:9:9: error: '{db.user|literal}': SQL filters belong in image recipes, whose actions quote their parameters for their engine; pass the plain value
          URL: "{db.user|literal}"
                ^
        """#)
    }

    @Test func startAndReadyMustNotHoldThePassword() throws {
        #expect(try diagnose([
            "Images/app.yml": """
            image: app
            from: debian:bookworm
            service:
              run-as: app
              port: 8080
              engine: app
              version: "1"
              user: admin
              start: app --admin-password {password} --port {port}
              ready: curl -fsu {user}:{password} localhost:{port}/health
            """,
            "Recipes/shop.yml": Self.shop,
        ]) == #"""
        Images/app.yml:9:31: error: 'start' must not use {password}: it becomes part of the container's configuration, which `docker inspect` shows; inside the container, connect over the socket with trust or peer authentication, as the stock recipes do
          start: app --admin-password {password} --port {port}
                                      ^
        Images/app.yml:10:27: error: 'ready' must not use {password}: it becomes part of the container's configuration, which `docker inspect` shows; inside the container, connect over the socket with trust or peer authentication, as the stock recipes do
          ready: curl -fsu {user}:{password} localhost:{port}/health
                                  ^
        Recipes/shop.yml:5:12: error: image recipe 'app' in Images/app.yml has errors (listed with it); fix them first
            image: app
                   ^
        """#)
    }
}
