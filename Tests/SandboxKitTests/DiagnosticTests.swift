import Foundation
import Testing

/// Golden diagnostics: what `sandbox check` prints for malformed recipes, compared as exact text
/// (`path:line:column: error: message`, the source line, a caret), every error of a file at once.
@Suite struct DiagnosticTests {
    /// YAML is written with `\n` escapes so the exact bytes (tabs, missing final newlines) are visible.
    @Test func unknownTopLevelKeySuggestsTheNearest() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservces:\n  db:\n    image: postgresql-15\n",
        ]) == #"""
        Recipes/shop.yml:3:1: error: unknown key 'servces' in a sandbox recipe (did you mean 'services'?)
        servces:
        ^
        """#)
    }

    @Test func missingRequiredKeys() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "# nothing but a name\nsandbox: shop\n",
        ]) == #"""
        Recipes/shop.yml:2:1: error: a sandbox recipe is missing required key 'owner'
        sandbox: shop
        ^
        Recipes/shop.yml:2:1: error: a sandbox recipe is missing required key 'services'
        sandbox: shop
        ^
        """#)
    }

    @Test func servicesAsAListInsteadOfAMapping() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  - db\n",
        ]) == #"""
        Recipes/shop.yml:4:3: error: 'services' must be a mapping, not a list
          - db
          ^
        """#)
    }

    @Test func serviceWithoutImage() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    port: 5432\n",
        ]) == #"""
        Recipes/shop.yml:5:5: error: service 'db' is missing required key 'image'
            port: 5432
            ^
        """#)
    }

    @Test func imageIsAListNotAString() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: [postgresql-15]\n",
        ]) == #"""
        Recipes/shop.yml:5:12: error: 'image' must be a string, not a list
            image: [postgresql-15]
                   ^
        """#)
    }

    @Test func unknownServiceKeySuggestsSetup() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: postgresql-15\n    setpu:\n      - create-database: {name: shop}\n",
        ]) == #"""
        Recipes/shop.yml:6:5: error: unknown key 'setpu' in service 'db' (did you mean 'setup'?)
            setpu:
            ^
        """#)
    }

    @Test func portOutOfRangeAndNotANumber() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: postgresql-15\n    port: 70000\n"
                + "  cache:\n    image: postgresql-15\n    port: fast\n",
        ]) == #"""
        Recipes/shop.yml:6:11: error: 'port' must be between 1 and 65535, not 70000
            port: 70000
                  ^
        Recipes/shop.yml:9:11: error: 'port' must be a whole number, not 'fast'
            port: fast
                  ^
        """#)
    }

    @Test func badPublishAddress() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: postgresql-15\n    publish: localhost\n",
        ]) == #"""
        Recipes/shop.yml:6:14: error: 'publish' must be an IPv4 address such as 127.0.0.1 (the default) or 0.0.0.0; got 'localhost'
            publish: localhost
                     ^
        """#)
    }

    @Test func invalidSandboxOwnerAndServiceNames() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: My Shop\nowner: ACME\nservices:\n  Db:\n    image: postgresql-15\n",
        ]) == #"""
        Recipes/shop.yml:1:10: error: 'sandbox' must be lower-case letters, digits, '.', '-' or '_', like 'bookmarker'; got 'My Shop'
        sandbox: My Shop
                 ^
        Recipes/shop.yml:2:8: error: 'owner' becomes the first part of image tags and must be lower-case, like 'acme'; got 'ACME'
        owner: ACME
               ^
        Recipes/shop.yml:4:3: error: service names are lower-case letters, digits and '-', starting with a letter, like 'db'; got 'Db'
          Db:
          ^
        """#)
    }

    @Test func unknownActionSuggestsTheNearest() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: postgresql-15\n    setup:\n      - create-db: {name: shop}\n",
        ]) == #"""
        Recipes/shop.yml:7:9: error: unknown action 'create-db' (did you mean 'create-database'?); \#
        this image offers: create-database, create-user, set-password, sql, run
              - create-db: {name: shop}
                ^
        """#)
    }

    @Test func missingRequiredParameter() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: postgresql-15\n"
                + "    setup:\n      - create-database: {owner: sandbox}\n",
        ]) == #"""
        Recipes/shop.yml:7:9: error: action 'create-database' needs parameter 'name'
              - create-database: {owner: sandbox}
                ^
        """#)
    }

    @Test func unknownParameterSuggestsTheNearest() throws {
        #expect(try diagnose([
            "Recipes/schema.sql": "create table t (id int);\n",
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: postgresql-15\n"
                + "    setup:\n      - sql: {databse: shop, file: schema.sql}\n",
        ]) == #"""
        Recipes/shop.yml:7:15: error: action 'sql' has no parameter 'databse' (did you mean 'database'?); it takes: database, file
              - sql: {databse: shop, file: schema.sql}
                      ^
        """#)
    }

    @Test func missingFile() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: postgresql-15\n"
                + "    update:\n      - sql: {database: shop, file: migrations/0001.sql}\n",
        ]) == #"""
        Recipes/shop.yml:7:31: error: file 'Recipes/migrations/0001.sql' does not exist
              - sql: {database: shop, file: migrations/0001.sql}
                                      ^
        """#)
    }

    @Test func stepWithTwoActions() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: postgresql-15\n"
                + "    setup:\n      - create-database: {name: shop}\n        sql: {file: schema.sql}\n",
        ]) == #"""
        Recipes/shop.yml:7:9: error: a step names exactly one action; write each action as its own '- ' item
              - create-database: {name: shop}
                ^
        """#)
    }

    @Test func stepsAsAMappingNotAList() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: postgresql-15\n    setup:\n      create-database: {name: shop}\n",
        ]) == #"""
        Recipes/shop.yml:7:7: error: 'setup' must be a list, not a mapping
              create-database: {name: shop}
              ^
        """#)
    }

    @Test func unknownFieldOfAService() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: postgresql-15\n"
                + "env:\n  DATABASE_URL: postgres://{db.user}:{db.pasword}@{db.host}:{db.port}/shop\n",
        ]) == #"""
        Recipes/shop.yml:7:38: error: unknown field 'pasword' of service 'db' (did you mean 'password'?); known: host, port, user, password, url
          DATABASE_URL: postgres://{db.user}:{db.pasword}@{db.host}:{db.port}/shop
                                             ^
        """#)
    }

    @Test func unknownServiceInAReference() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: postgresql-15\n"
                + "env:\n  DATABASE_URL: postgres://{db.user}@{dv.host}:{db.port}/shop\n",
        ]) == #"""
        Recipes/shop.yml:7:38: error: unknown service 'dv' in '{dv.host}' (did you mean 'db'?)
          DATABASE_URL: postgres://{db.user}@{dv.host}:{db.port}/shop
                                             ^
        """#)
    }

    @Test func unknownPlainReference() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: postgresql-15\nenv:\n  SHARD: \"{instanse}\"\n",
        ]) == #"""
        Recipes/shop.yml:7:11: error: unknown reference '{instanse}' (did you mean 'instance'?); use {instance}, {sandbox}, {SERVICE.port} or {env.NAME}
          SHARD: "{instanse}"
                  ^
        """#)
    }

    @Test func unterminatedReference() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: postgresql-15\nenv:\n  PORT: \"{db.port\"\n",
        ]) == #"""
        Recipes/shop.yml:7:10: error: '{' is never closed; write '{{' for a literal brace
          PORT: "{db.port"
                 ^
        """#)
    }

    @Test func envValueIsAMapping() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: postgresql-15\n"
                + "env:\n  DATABASE_URL: {host: localhost}\n  9LIVES: cat\n",
        ]) == #"""
        Recipes/shop.yml:7:17: error: 'DATABASE_URL' in 'env' must be a string, not a mapping
          DATABASE_URL: {host: localhost}
                        ^
        Recipes/shop.yml:8:3: error: '9LIVES' is not a valid environment variable name; use letters, digits and '_'
          9LIVES: cat
          ^
        """#)
    }

    @Test func missingImageRecipeSuggestsTheNearest() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: postgresql-16\n",
        ]) == #"""
        Recipes/shop.yml:5:12: error: no image recipe 'postgresql-16' in Images/ or the stock recipes (did you mean 'postgresql-15'?); \#
        known: debian-bookworm, debian-trixie, mariadb-10.11, mariadb-11.8, memcached, postgresql-15, postgresql-17, redis-7
            image: postgresql-16
                   ^
        """#)
    }

    @Test func cyclicImageRecipes() throws {
        #expect(try diagnose([
            "Images/app-a.yml": "image: app-a\nfrom: app-b\nservice: {run-as: app, port: 1, engine: app, version: \"1\", start: app, ready: \"true\"}\n",
            "Images/app-b.yml": "image: app-b\nfrom: app-a\n",
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: app-a\n",
        ]) == #"""
        Images/app-b.yml:2:7: error: image recipes form a cycle: app-a -> app-b -> app-a; one of them must start from a base image
        from: app-a
              ^
        """#)
    }

    @Test func brokenYAMLUnclosedFlowMapping() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db: {image: postgresql-15\n",
        ]) == #"""
        Recipes/shop.yml:4:28: error: invalid YAML: did not find expected ',' or '}' (while parsing a flow mapping)
          db: {image: postgresql-15
                                   ^
        """#)
    }

    @Test func brokenYAMLBadIndentation() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: postgresql-15\n   setup: []\n",
        ]) == #"""
        Recipes/shop.yml:6:4: error: invalid YAML: did not find expected key (while parsing a block mapping)
           setup: []
           ^
        """#)
    }

    @Test func brokenYAMLTabIndentation() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n\tdb:\n\t\timage: postgresql-15\n",
        ]) == #"""
        Recipes/shop.yml:4:1: error: invalid YAML: found character that cannot start any token (while scanning for the next token)
        	db:
        ^
        """#)
    }

    @Test func duplicateKey() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nsandbox: store\nservices:\n  db:\n    image: postgresql-15\n",
        ]) == #"""
        Recipes/shop.yml:3:1: error: duplicate key 'sandbox'; each key may appear once in a mapping
        sandbox: store
        ^
        """#)
    }

    @Test func emptyFile() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "# to do\n",
        ]) == #"""
        Recipes/shop.yml:1:1: error: the file is empty; expected a mapping of keys
        # to do
        ^
        """#)
    }

    @Test func everyErrorInAFileIsReported() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nownr: acme\nservices:\n  db:\n    image: postgresql-15\n"
                + "    setup:\n      - create-databse: {name: shop}\n      - sql: {database: shop, file: nope.sql}\n"
                + "env:\n  URL: \"{db.prot}\"\n",
        ]) == #"""
        Recipes/shop.yml:2:1: error: unknown key 'ownr' in a sandbox recipe (did you mean 'owner'?)
        ownr: acme
        ^
        Recipes/shop.yml:7:9: error: unknown action 'create-databse' (did you mean 'create-database'?); \#
        this image offers: create-database, create-user, set-password, sql, run
              - create-databse: {name: shop}
                ^
        Recipes/shop.yml:8:31: error: file 'Recipes/nope.sql' does not exist
              - sql: {database: shop, file: nope.sql}
                                      ^
        Recipes/shop.yml:10:9: error: unknown field 'prot' of service 'db' (did you mean 'port'?); known: host, port, user, password, url
          URL: "{db.prot}"
                ^
        """#)
    }

    @Test func twoSandboxesWithOneName() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: postgresql-15\n",
            "Recipes/store.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: postgresql-15\n",
        ]) == #"""
        Recipes/store.yml:1:1: error: sandbox 'shop' is also defined in Recipes/shop.yml; sandbox names must be unique
        sandbox: shop
        ^
        """#)
    }

    @Test func validRecipesPrintOK() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db: {image: postgresql-15}\nenv:\n  URL: \"{db.url}\"\n",
        ]) == "ok")
    }
}
