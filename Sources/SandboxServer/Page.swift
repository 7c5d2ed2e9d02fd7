import Foundation
import HTTPTypes
import Hummingbird

/// The page at `/`: plain HTML, CSS and JavaScript kept in the binary (no build step, no CDN), on top of the API.
enum Page {
    static func register(on router: Router<BasicRequestContext>, token: String, secure: Bool) {
        router.get("/") { request, _ -> Response in
            // The login link: a valid `?token=` becomes an HttpOnly, SameSite=Strict cookie, and the token leaves the address bar.
            if let given = request.uri.queryParameters.get("token") {
                guard AccessToken.matches(String(given), token) else {
                    return html(PageHTML.text.replacingOccurrences(of: "<!--notice-->", with: PageHTML.wrongToken), status: .unauthorized)
                }
                var response = Response(status: .seeOther, headers: [.location: "/", .cacheControl: "no-store"])
                response.setCookie(Cookie(name: AccessGuard<BasicRequestContext>.cookieName, value: token, path: "/", secure: secure,
                                          httpOnly: true, sameSite: .strict))
                return response
            }
            return html(PageHTML.text)
        }
        router.get("/app.js") { _, _ in asset(PageScript.text, type: "text/javascript; charset=utf-8") }
        router.get("/app.css") { _, _ in asset(PageStyle.text, type: "text/css; charset=utf-8") }
    }

    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        .xContentTypeOptions: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
        HTTPField.Name("X-Frame-Options")!: "DENY",
    ]

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func asset(_ text: String, type: String) -> Response {
        var headers = securityHeaders
        headers[.contentType] = type
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

enum PageHTML {
    static let wrongToken = #"<p class="notice bad">That link's key is not this server's. Open the newest link <code>sandbox serve</code> printed.</p>"#

    static let text = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Sandboxes</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="/app.css">
    <script src="/app.js" defer></script>
    </head>
    <body>
    <header>
      <h1>Sandboxes</h1>
      <p class="lede">Your own copies of this project: its application and its databases. Use them, break them, reset them: nobody else is affected.</p>
    </header>
    <main>
      <!--notice-->
      <div id="signin" class="notice" hidden>
        <h2>Sign in</h2>
        <p>Open the link that <code>sandbox serve</code> printed when it started (it looks like
        <code>http://127.0.0.1:7420/?token=…</code>). Ask whoever runs it if you do not have it.</p>
      </div>
      <div id="offline" class="notice bad" hidden>The sandbox server does not answer. It may have been stopped.</div>
      <div id="checkouts"></div>
      <section id="previews" hidden>
        <h2>Previews of branches</h2>
        <p class="muted">Each is made by a push to its branch, updated by the next, and removed with the branch or when nobody keeps it.</p>
        <div id="preview-list"></div>
      </section>
      <section id="create" class="card" hidden>
        <h2>Make a new copy</h2>
        <form id="create-form">
          <label>Name <input id="create-name" name="name" required pattern="[a-z0-9][a-z0-9-]{0,30}" placeholder="e.g. marketing-demo"></label>
          <span class="hint">lowercase letters, digits and dashes</span>
          <button type="submit" class="primary">Make it</button>
        </form>
      </section>
    </main>
    <dialog id="confirm">
      <form method="dialog">
        <h2 id="confirm-title"></h2>
        <p id="confirm-text"></p>
        <label id="confirm-input-label" hidden>Name <input id="confirm-input" pattern="[A-Za-z0-9][A-Za-z0-9._-]*"></label>
        <select id="confirm-select" hidden></select>
        <menu>
          <button value="cancel" formnovalidate>Cancel</button>
          <button value="ok" id="confirm-ok" class="danger">OK</button>
        </menu>
      </form>
    </dialog>
    <footer>Served by <code>sandbox serve</code>. The same actions: <code>sandbox up</code>, <code>sandbox reset</code>, <code>sandbox snapshot</code>.</footer>
    </body>
    </html>
    """#
}
