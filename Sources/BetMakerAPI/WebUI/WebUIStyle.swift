/// The web UI's style sheet (`/ui/assets/app.css`). One breakpoint, 64rem: below it the navigation
/// folds behind "Menu" and tables become cards (each cell shows its `data-label`); above it a table
/// too wide for the page scrolls inside its own box. Colours meet WCAG AA contrast (4.5:1 for text),
/// and every focusable element shows a focus ring.
enum WebUIStyle {
    static let text = """
        :root {
          --ink: #172033; --muted: #4a5468; --line: #d5d9e2; --paper: #ffffff; --page: #f3f4f7; --brand: #101828;
          --accent: #1d4ed8; --accent-ink: #ffffff; --good: #056440; --bad: #b42318; --focus: #f59e0b;
          font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--page);
          line-height: 1.45;
        }
        *, *::before, *::after { box-sizing: border-box; }
        body { margin: 0; }
        a { color: var(--accent); }
        :focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; border-radius: 2px; }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
        .skip { position: absolute; left: .5rem; top: -3rem; background: var(--paper); padding: .4rem .8rem; z-index: 10; }
        .skip:focus { top: .5rem; }

        header.site { background: var(--brand); color: #fff; width: 100%; }
        header.site .bar { display: flex; flex-wrap: wrap; align-items: center; gap: .4rem 1rem; max-width: 80rem; margin: 0 auto;
          padding: .5rem 1rem; }
        header.site a { color: #fff; text-decoration: none; }
        .brand { font-weight: 700; font-size: 1.1rem; margin-right: .5rem; }
        header nav { flex: 1; min-width: 0; }
        header nav ul { display: flex; flex-wrap: wrap; gap: .15rem; list-style: none; margin: 0; padding: 0; }
        header nav a { display: block; padding: .35rem .6rem; border-radius: .3rem; white-space: nowrap; }
        header nav a:hover { background: #273449; }
        header nav a[aria-current] { background: #fff; color: var(--brand); font-weight: 600; }
        header nav li.section-start { margin-left: .6rem; padding-left: .6rem; border-left: 1px solid #475467; }
        .who { display: flex; align-items: center; gap: .5rem; white-space: nowrap; }
        .who .login { display: inline-block; max-width: 14rem; overflow: hidden; text-overflow: ellipsis; vertical-align: bottom; }
        .who .role { font-size: .8rem; background: #344054; padding: .05rem .45rem; border-radius: 1rem; }
        header .menu { display: none; }

        main { max-width: 80rem; margin: 0 auto; padding: 1rem; }
        h1 { font-size: 1.6rem; margin: .4rem 0 1rem; }
        h2 { font-size: 1.15rem; margin: 1.4rem 0 .6rem; }
        .card h2 { margin-top: 0; }
        .card { background: var(--paper); border: 1px solid var(--line); border-radius: .5rem; padding: .9rem 1rem; margin: 0 0 1rem; }
        .narrow { max-width: 26rem; }
        .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(17rem, 1fr)); gap: 1rem; }
        .grid .card { margin: 0; }
        .muted { color: var(--muted); }
        .small, small { font-size: .85rem; }
        .num { font-variant-numeric: tabular-nums; white-space: nowrap; }
        .name { font-weight: 600; }
        .meta { color: var(--muted); margin: .2rem 0; }
        .teams { font-weight: 600; margin: .2rem 0; }
        .balance { font-size: 1.05rem; }
        .balance strong { font-size: 1.25rem; }
        .closed-note { background: #fef0c7; color: #7a2e0e; border-radius: .3rem; padding: .4rem .6rem; margin: .6rem 0 0; font-weight: 500; }
        .empty { background: var(--paper); border: 1px dashed var(--line); border-radius: .5rem; padding: 1rem; color: var(--muted); }
        code { white-space: pre-wrap; word-break: break-all; font-size: .85rem; }

        label { display: block; margin: .5rem 0 .2rem; font-weight: 500; }
        label.inline { display: inline-flex; align-items: center; gap: .35rem; margin-right: 1rem; font-weight: 400; }
        input, select { font: inherit; color: inherit; display: block; width: 100%; max-width: 24rem; margin-top: .2rem; padding: .4rem .5rem;
          border: 1px solid #8a93a6; border-radius: .3rem; background: #fff; }
        input[type=checkbox], input[type=radio] { display: inline-block; width: auto; margin: 0; }
        input[aria-invalid=true] { border-color: var(--bad); }
        fieldset { border: 0; padding: 0; margin: .5rem 0 0; }
        legend { font-weight: 500; padding: 0; }
        button { font: inherit; cursor: pointer; padding: .4rem .85rem; border-radius: .3rem; border: 1px solid var(--accent);
          background: var(--accent); color: var(--accent-ink); }
        button:hover { background: #1e40af; }
        button.quiet { background: transparent; color: inherit; border-color: currentColor; }
        header button.quiet:hover { background: #273449; }
        button.danger { background: var(--paper); color: var(--bad); border-color: var(--bad); }
        button:disabled { opacity: .6; cursor: progress; }
        form button[type=submit] { margin-top: .6rem; }
        .filter { display: flex; flex-wrap: wrap; align-items: end; gap: .6rem; margin-bottom: 1rem; }
        .filter label { margin: 0; }
        .filter button { margin: 0; }
        .actions { display: flex; flex-wrap: wrap; gap: .35rem; }
        td .actions { flex-wrap: nowrap; }
        .report-status { margin: 0; }
        .error { color: var(--bad); margin: .25rem 0; font-weight: 500; }
        .error-text { color: var(--bad); }
        .error:empty, .notice:empty { display: none; }
        .notice { color: var(--good); margin: .25rem 0; }
        summary { cursor: pointer; font-weight: 600; }
        details.create[open] summary { margin-bottom: .5rem; }
        details.create .fields { display: grid; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); gap: 0 1rem; }
        details.create .fields > .error, details.create .fields > button, details.create .fields > label.inline { grid-column: 1 / -1; }
        details.create .fields > button { justify-self: start; }

        .status, .state { display: inline-block; padding: .05rem .5rem; border-radius: 1rem; font-size: .85rem; font-weight: 600;
          background: #e4e7ec; color: #344054; white-space: nowrap; }
        .status-pending, .status-open, .state-open, .state-assigned, .state-in_progress { background: #dbe4ff; color: #1e3a8a; }
        .status-won, .state-active { background: #d1fadf; color: #05603a; }
        .status-lost, .state-disabled { background: #fee4e2; color: #912018; }
        .status-void, .status-even, .state-void, .state-pending { background: #e4e7ec; color: #344054; }
        .state-resulted { background: #fef0c7; color: #7a2e0e; }

        .table-wrap { overflow-x: auto; max-width: 100%; margin-bottom: 1rem; background: var(--paper); border: 1px solid var(--line);
          border-radius: .5rem; }
        table { border-collapse: collapse; width: 100%; }
        th, td { padding: .5rem .7rem; text-align: left; vertical-align: top; border-bottom: 1px solid var(--line); }
        th { font-size: .85rem; color: var(--muted); font-weight: 600; background: #f8f9fb; }
        tbody tr:last-child td { border-bottom: 0; }
        td progress { width: 7rem; vertical-align: middle; accent-color: var(--good); }

        dialog.manage { width: min(34rem, calc(100vw - 2rem)); max-height: calc(100vh - 2rem); border: 1px solid var(--line);
          border-radius: .6rem; padding: 1rem 1.2rem; color: var(--ink); }
        dialog::backdrop { background: rgba(16, 24, 40, .55); }
        dialog .dialog-head { display: flex; justify-content: space-between; align-items: start; gap: 1rem; }
        dialog .dialog-head h2 { margin: 0; }
        dialog .dialog-head button { flex-shrink: 0; white-space: nowrap; }
        dialog .fields { border-top: 1px solid var(--line); padding: .6rem 0; margin-top: .6rem; }
        dialog [data-event-actions] { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }

        .trade-layout { display: grid; grid-template-columns: minmax(0, 2fr) minmax(16rem, 1fr); gap: 1rem; align-items: start; }
        .trade-layout .card { margin: 0; min-width: 0; }
        .chart-head { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: baseline; gap: .5rem; }
        .chart-head h2 { margin: 0; }
        .chart-price { font-variant-numeric: tabular-nums; }
        .countdown { margin: 0; font-variant-numeric: tabular-nums; font-weight: 600; color: var(--accent); }
        svg.chart { display: block; width: 100%; height: 16rem; margin: .5rem 0; }
        .chart .grid-line { stroke: #e4e7ec; stroke-width: 1; }
        .chart .axis { fill: var(--muted); font-size: 11px; font-variant-numeric: tabular-nums; }
        .chart .price-line { fill: none; stroke: var(--accent); stroke-width: 2; stroke-linejoin: round; }
        .chart .price-area { fill: #dbe4ff; opacity: .6; }
        .chart .start-line { stroke: var(--good); stroke-width: 1.5; stroke-dasharray: 6 4; }
        .chart .stop-line { stroke: var(--bad); stroke-width: 1.5; stroke-dasharray: 2 3; }
        .chart .line-label { font-size: 11px; font-weight: 600; }
        .chart .start-label { fill: var(--good); }
        .chart .stop-label { fill: var(--bad); }
        .chart .last-dot { fill: var(--accent); }
        .legend { color: var(--muted); }
        .key { display: inline-block; width: 1.2rem; height: 0; border-top: 2px solid var(--accent); vertical-align: middle; margin-left: .6rem; }
        .key-start { border-top: 2px dashed var(--good); }
        .key-stop { border-top: 2px dotted var(--bad); }
        .quotes { display: flex; flex-wrap: wrap; gap: .6rem; list-style: none; padding: 0; margin: 0 0 1rem; }
        .quotes li { margin: 0; padding: .5rem .9rem; display: flex; gap: .8rem; align-items: baseline; }
        .quotes .symbol { font-weight: 700; }
        .accounts { display: flex; flex-wrap: wrap; gap: .6rem; list-style: none; padding: 0; margin: 0; }
        .accounts li { display: flex; flex-direction: column; min-width: 10rem; margin: 0; }
        .accounts strong { font-size: 1.3rem; }

        @media (max-width: 64rem) {
          header .menu { display: inline-block; margin-left: auto; }
          header nav { display: none; flex-basis: 100%; order: 3; }
          header.site[data-open] nav { display: block; }
          header nav ul { flex-direction: column; }
          header nav li.section-start { margin: .3rem 0 0; padding: .3rem 0 0; border-left: 0; border-top: 1px solid #475467; }
          .who { order: 2; }
          .trade-layout { grid-template-columns: minmax(0, 1fr); }
          table.cards thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
          table.cards, table.cards tbody, table.cards tr, table.cards td { display: block; width: 100%; }
          .table-wrap { background: transparent; border: 0; overflow: visible; }
          table.cards tr { background: var(--paper); border: 1px solid var(--line); border-radius: .5rem; margin-bottom: .7rem; padding: .3rem 0; }
          table.cards td { position: relative; border: 0; padding: .3rem .8rem .3rem 8.6rem; min-height: 2rem; overflow-wrap: anywhere; }
          table.cards td::before { content: attr(data-label); position: absolute; left: .8rem; width: 7.4rem; color: var(--muted);
            font-size: .85rem; font-weight: 600; }
          table.cards td.num { white-space: normal; }
          td .actions { flex-wrap: wrap; }
          /* A card leaves out what has no value yet (a trader, a result, a bar before the first batch). */
          table.cards td:empty, table.cards td[data-progress]:has(> progress[hidden]) { display: none; }
        }
        @media (max-width: 30rem) {
          main { padding: .75rem; }
          header.site .bar { padding: .5rem .75rem; }
          .who .login { max-width: 7rem; }
          svg.chart { height: 13rem; }
        }

        """
}
