/// The page's style sheet: readable type, clear states, nothing loaded from elsewhere.
enum PageStyle {
    static let text = #"""
    :root { --ok: #1a7f37; --bad: #b42318; --busy: #1d4ed8; --idle: #57606a; --line: #d0d7de; --bg: #f6f8fa; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; background: var(--bg); }
    header, main, footer { max-width: 980px; margin: 0 auto; padding: 0 20px; }
    header { padding-top: 28px; }
    h1 { margin: 0; font-size: 28px; }
    h2 { font-size: 20px; margin: 8px 0; }
    h3 { margin: 0; font-size: 20px; }
    .lede { color: var(--idle); margin-top: 4px; }
    .muted { color: var(--idle); font-weight: normal; }
    .card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; margin: 16px 0; }
    .card-head { display: flex; justify-content: space-between; align-items: center; margin-bottom: 8px; }
    .badge, .pill { border-radius: 999px; padding: 2px 12px; font-size: 14px; font-weight: 600; white-space: nowrap; }
    .pill { font-size: 12px; margin-left: 8px; }
    .ok { background: #dafbe1; color: var(--ok); }
    .bad { background: #ffebe9; color: var(--bad); }
    .busy { background: #ddf4ff; color: var(--busy); }
    .idle { background: #eaeef2; color: var(--idle); }
    .checkout-head { margin: 12px 0 0; }
    .preview.focus { outline: 3px solid var(--ok); }
    .preview button { margin: .2rem .4rem .4rem 0; }
    .checkout-line { display: flex; flex-wrap: wrap; align-items: center; gap: 10px; }
    .service { border-top: 1px solid var(--line); padding: 10px 0; }
    .service-head { display: flex; align-items: center; gap: 4px; }
    .forms { display: grid; grid-template-columns: minmax(160px, 30%) 1fr; gap: 4px 12px; margin: 8px 0 0; font-size: 14px; }
    .forms dt { color: var(--idle); }
    .forms dd { margin: 0; display: flex; gap: 8px; align-items: flex-start; min-width: 0; }
    code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--bg); padding: 2px 6px;
           border-radius: 4px; overflow-wrap: anywhere; }
    .actions { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 12px; }
    button { font: inherit; font-size: 14px; padding: 6px 14px; border-radius: 6px; border: 1px solid var(--line); background: #fff; cursor: pointer; }
    button:hover:not(:disabled) { background: var(--bg); }
    button:disabled { opacity: .5; cursor: default; }
    button.small { font-size: 12px; padding: 1px 8px; flex: none; }
    button.primary { background: var(--ok); border-color: var(--ok); color: #fff; }
    a.button { display: inline-block; padding: .45rem .9rem; border-radius: 6px; text-decoration: none; font-weight: 600; margin: .2rem .4rem .4rem 0; }
    a.button.primary { background: var(--ok); color: #fff; }
    .open { margin: .3rem 0 .6rem; }
    button.danger { color: var(--bad); border-color: #f3b5ae; }
    #confirm-ok.danger { background: var(--bad); color: #fff; border-color: var(--bad); }
    .progress { margin-top: 12px; border-left: 3px solid var(--busy); padding-left: 12px; }
    .steps { margin: 0; padding-left: 20px; font-size: 14px; }
    .steps li span + span { margin-left: 8px; }
    .failure { margin-top: 12px; border-left: 3px solid var(--bad); padding-left: 12px; }
    .failure pre { background: #1f2328; color: #f6f8fa; padding: 10px; border-radius: 6px; overflow: auto; font-size: 12px; max-height: 260px; }
    .notice { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 10px; padding: 12px 16px; margin: 16px 0; }
    .notice.bad { background: #ffebe9; border-color: #f3b5ae; }
    form label { font-weight: 600; }
    input, select { font: inherit; padding: 5px 8px; border: 1px solid var(--line); border-radius: 6px; }
    .hint { color: var(--idle); font-size: 13px; margin: 0 8px; }
    dialog { border: 1px solid var(--line); border-radius: 10px; max-width: 480px; }
    dialog menu { display: flex; justify-content: flex-end; gap: 8px; padding: 0; margin: 16px 0 0; }
    footer { color: var(--idle); font-size: 13px; padding: 24px 20px 40px; }
    """#
}
