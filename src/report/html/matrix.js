// The matrix page's script: filters, tabs, counts, and the evidence panel.
// @ts-check
// html.ts inlines this file as is and allows it by the sha256 of its bytes (assets.ts); tsc checks it
// against PageData. It writes report text only with text nodes (Node.append of strings,
// textContent), never with innerHTML, and shows CK_RVs, hex codes and labels as page-data.ts
// formatted them.
/** @typedef {import("./page-data.js").PageData} PageData */
/** @typedef {import("./page-data.js").PageResult} PageResult */
/** @typedef {PageData["cases"][number]} PageCase */
/** @typedef {PageData["mechs"][number]} PageMech */
/** @typedef {PageData["tokens"][number]} PageToken */
/** @typedef {import("../matrix.js").CellOutcome} CellOutcome */
/** @typedef {import("../../contract/report.js").Outcome} Outcome */
/** @typedef {Node | string | number | null | undefined | false | readonly unknown[]} Kid (arrays of Kid, nested) */
/** @typedef {string | number | boolean | null | undefined | ((e: Event) => void)} Prop */
(function () {
  "use strict";
  /** @type {PageData} */
  const D = JSON.parse(el("#p11-data").textContent || "");
  const T = D.tokens.length;
  const LABEL = D.outcomeLabel;
  const OUTS = D.outcomes;

  /** The element the selector names (the page always has it). @param {string} s @returns {HTMLElement} */
  function el(s) {
    const e = document.querySelector(s);
    if (!(e instanceof HTMLElement)) throw new Error("no element " + s);
    return e;
  }
  /** @param {string} s @returns {HTMLElement[]} */
  function all(s) {
    return /** @type {HTMLElement[]} */ (Array.from(document.querySelectorAll(s)));
  }
  /** @param {string} s */
  function value(s) {
    return /** @type {HTMLInputElement | HTMLSelectElement} */ (el(s)).value;
  }
  /** @param {string} s */
  function checked(s) {
    return /** @type {HTMLInputElement} */ (el(s)).checked;
  }
  /** A value that is there by construction (the rows and cells match the data). @template X @param {X | undefined} x @returns {X} */
  function must(x) {
    if (x === undefined) throw new Error("missing page data");
    return x;
  }
  /** @template X @param {readonly X[]} a @param {number} i */
  function at(a, i) {
    return must(a[i]);
  }

  /** @param {string} tag @param {Record<string, Prop> | null} [props] @param {...Kid} kids @returns {HTMLElement} */
  function h(tag, props, ...kids) {
    const e = document.createElement(tag);
    if (props)
      for (const k in props) {
        const v = props[k];
        if (v === null || v === undefined || v === false) continue;
        if (k === "class") e.className = String(v);
        else if (k.slice(0, 2) === "on") {
          if (typeof v === "function") e.addEventListener(k.slice(2), v);
        } else e.setAttribute(k, v === true ? "" : String(v));
      }
    add(e, kids);
    return e;
  }
  /** @param {HTMLElement} e @param {Kid} kid */
  function add(e, kid) {
    if (kid === null || kid === undefined || kid === false) return;
    if (Array.isArray(kid)) {
      kid.forEach(function (k) {
        add(e, /** @type {Kid} */ (k));
      });
      return;
    }
    e.append(kid instanceof Node ? kid : String(kid));
  }
  /** @param {number} t */
  function tokenName(t) {
    const k = at(D.tokens, t);
    return k.letter + " " + k.profile + " · " + k.label;
  }
  /** @param {string} s */
  function shell(s) {
    return /^[A-Za-z0-9_.,/=+:@%-]+$/.test(s) ? s : "'" + s.replace(/'/g, "'\\''") + "'";
  }
  /** @param {number} t @param {number} i @returns {PageResult | null} */
  function resultAt(t, i) {
    return at(at(D.results, t), i);
  }

  // ----- rows and filters
  /** @type {{ tr: HTMLElement, c: PageCase, outs: CellOutcome[], text: string, differs: boolean }[]} */
  const caseRows = [];
  /** @type {Record<string, { tr: HTMLElement, small: HTMLElement | null }>} */
  const groups = {};
  all("#cases tbody tr").forEach(function (tr) {
    if (tr.classList.contains("grp")) {
      groups[tr.getAttribute("data-suite") || ""] = { tr: tr, small: tr.querySelector("small") };
      return;
    }
    if (tr.classList.contains("empty")) return;
    const i = +(tr.getAttribute("data-i") || ""),
      c = at(D.cases, i),
      text = [c.id, c.title, c.keyType || ""];
    /** @type {CellOutcome[]} */
    const outs = [];
    for (let t = 0; t < T; t++) {
      const r = resultAt(t, i);
      outs.push(r ? r.outcome : "not-run");
      if (r)
        text.push(
          r.message,
          r.function || "",
          r.ckr ? r.ckr.name : "",
          r.attribute || "",
          r.mechanism || "",
          r.diagnosis ? r.diagnosis.summary : "",
        );
    }
    caseRows.push({ tr: tr, c: c, outs: outs, text: text.join("\n").toLowerCase(), differs: c.differs });
  });
  /** @type {{ tr: HTMLElement, m: PageMech, text: string, used: boolean, differs: boolean }[]} */
  const mechRows = [];
  all("#mechs tbody tr").forEach(function (tr) {
    if (tr.classList.contains("empty")) return;
    const m = at(D.mechs, +(tr.getAttribute("data-i") || ""));
    const st = m.cells.map(function (c) {
      return c.status;
    });
    const text = [m.name, m.keyType || ""].concat(
      m.cells.map(function (c) {
        return c.findings
          .map(function (f) {
            return f.kind + " " + f.detail;
          })
          .join("\n");
      }),
    );
    mechRows.push({
      tr: tr,
      m: m,
      text: text.join("\n").toLowerCase(),
      used: m.cells.some(function (c) {
        return Object.keys(c.ops).length > 0;
      }),
      differs:
        st.some(function (s) {
          return s !== st[0];
        }) ||
        m.cells.some(function (c) {
          return !!c.advertised !== !!at(m.cells, 0).advertised;
        }),
    });
  });
  /** @type {Record<string, HTMLElement>} */
  const countEls = {};
  all("#cases thead .n").forEach(function (e) {
    countEls[e.getAttribute("data-t") + ":" + e.getAttribute("data-o")] = e;
  });

  let view = "cases";
  /** @typedef {ReturnType<typeof state>} FilterState */
  function state() {
    /** @type {Record<string, boolean>} */
    const outs = {};
    all("input[name=outcome]").forEach(function (b) {
      const box = /** @type {HTMLInputElement} */ (b);
      outs[box.value] = box.checked;
    });
    return {
      terms: value("#q").toLowerCase().split(/\s+/).filter(Boolean),
      suite: value("#f-suite"),
      mech: value("#f-mech"),
      kt: value("#f-kt"),
      outs: outs,
      diff: checked("#f-diff"),
      used: checked("#f-used"),
    };
  }
  /** @param {string} text @param {string[]} terms */
  function matches(text, terms) {
    for (let i = 0; i < terms.length; i++) if (text.indexOf(at(terms, i)) < 0) return false;
    return true;
  }
  function apply() {
    const s = state();
    if (view === "cases") applyCases(s);
    else if (view === "mechs") applyMechs(s);
  }
  /** @param {FilterState} s */
  function applyCases(s) {
    /** @type {Record<string, number>[]} */
    const counts = [];
    /** @type {Record<string, number>} */
    const perGroup = {};
    let shown = 0;
    for (let t = 0; t < T; t++) {
      /** @type {Record<string, number>} */
      const n = {};
      OUTS.forEach(function (o) {
        n[o] = 0;
      });
      counts.push(n);
    }
    caseRows.forEach(function (row) {
      const c = row.c;
      const ok =
        (!s.suite || c.suite === s.suite) &&
        (!s.kt || c.keyType === s.kt) &&
        (!s.mech || c.mechs.indexOf(s.mech) >= 0) &&
        (!s.diff || row.differs) &&
        row.outs.some(function (o) {
          return s.outs[o];
        }) &&
        matches(row.text, s.terms);
      if (row.tr.hidden === ok) row.tr.hidden = !ok;
      if (!ok) return;
      shown++;
      perGroup[c.suite] = (perGroup[c.suite] || 0) + 1;
      row.outs.forEach(function (o, t) {
        const n = at(counts, t);
        n[o] = (n[o] || 0) + 1;
      });
    });
    for (const g in groups) {
      const n = perGroup[g] || 0,
        grp = must(groups[g]);
      grp.tr.hidden = !n;
      if (grp.small) grp.small.textContent = n + (n === 1 ? " case" : " cases");
    }
    for (let t = 0; t < T; t++)
      OUTS.forEach(function (o) {
        const e = must(countEls[t + ":" + o]),
          n = at(counts, t)[o] || 0;
        e.textContent = String(n);
        e.classList.toggle("zero", !n);
      });
    el("#cases tr.empty").hidden = shown > 0;
    el("#shown").textContent = shown + " of " + caseRows.length + " cases shown";
  }
  /** @param {FilterState} s */
  function applyMechs(s) {
    let shown = 0;
    mechRows.forEach(function (row) {
      const ok =
        (!s.kt || row.m.keyType === s.kt) &&
        (!s.mech || row.m.name === s.mech) &&
        (!s.used || row.used) &&
        (!s.diff || row.differs) &&
        matches(row.text, s.terms);
      if (row.tr.hidden === ok) row.tr.hidden = !ok;
      if (ok) shown++;
    });
    el("#mechs tr.empty").hidden = shown > 0;
    el("#shown").textContent = shown + " of " + mechRows.length + " mechanisms shown";
  }
  let timer = 0;
  el("#filters").addEventListener("input", function (e) {
    window.clearTimeout(timer);
    if (e.target instanceof Element && e.target.id === "q") timer = window.setTimeout(apply, 90);
    else apply();
  });
  // Enter in the search box would submit the form and reload the page (the CSP forbids an inline onsubmit).
  el("#filters").addEventListener("submit", function (e) {
    e.preventDefault();
    apply();
  });
  el("#clear").addEventListener("click", function () {
    /** @type {HTMLFormElement} */ (el("#filters")).reset();
    apply();
  });

  /** @param {string} v */
  function setView(v) {
    if (v !== view && !panel.hidden) closePanel();
    view = v;
    all(".tabs button").forEach(function (b) {
      b.setAttribute("aria-selected", String(b.getAttribute("data-view") === v));
    });
    el("#view-cases").hidden = v !== "cases";
    el("#view-mechs").hidden = v !== "mechs";
    const clients = document.querySelector("#view-clients");
    if (clients instanceof HTMLElement) clients.hidden = v !== "clients";
    const speed = document.querySelector("#view-speed");
    if (speed instanceof HTMLElement) speed.hidden = v !== "speed";
    el("#filters").hidden = v === "clients" || v === "speed";
    all(".for-cases").forEach(function (e) {
      e.hidden = v !== "cases";
    });
    all(".for-mechs").forEach(function (e) {
      e.hidden = v !== "mechs";
    });
    apply();
  }
  all(".tabs button").forEach(function (b) {
    b.addEventListener("click", function () {
      setView(b.getAttribute("data-view") || "");
    });
  });

  // ----- the evidence panel
  const panel = el("#panel"),
    body = el("#panel-body");
  /** @type {Element | null} */
  let selected = null;
  /** @param {Element | null} td */
  function select(td) {
    if (selected) selected.classList.remove("sel");
    selected = td;
    if (td) td.classList.add("sel");
  }
  function closePanel() {
    panel.hidden = true;
    select(null);
    if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  }
  el("#panel-close").addEventListener("click", closePanel);
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && !panel.hidden) closePanel();
  });

  /** @param {"case" | "mech"} kind @param {number} i @param {number} t @param {(k: number) => { cls: string, text: string }} outcomeOf */
  function switcher(kind, i, t, outcomeOf) {
    const bar = h("div", { class: "switch", role: "group", "aria-label": "token" });
    for (let k = 0; k < T; k++) {
      const o = outcomeOf(k);
      bar.append(
        h(
          "button",
          {
            type: "button",
            class: o.cls,
            "aria-pressed": String(k === t),
            title: at(D.tokens, k).deviceTitle,
            onclick: function () {
              if (kind === "case") openCase(i, k);
              else openMech(i, k);
            },
          },
          tokenName(k) + ": " + o.text,
        ),
      );
    }
    return bar;
  }
  /** @param {string} table @param {number} i @param {number} t */
  function cellAt(table, i, t) {
    return document.querySelector("#" + table + " tr[data-i='" + i + "'] td[data-t='" + t + "']");
  }

  /** @param {number} i @param {number} t */
  function openCase(i, t) {
    const c = at(D.cases, i),
      r = resultAt(t, i),
      tok = at(D.tokens, t);
    select(cellAt("cases", i, t));
    body.replaceChildren();
    add(body, [
      h("h2", { id: "panel-title" }, c.id),
      h("p", { class: "sub" }, c.title),
      h(
        "p",
        { class: "sub" },
        "suite " + c.suite + (c.keyType ? " · key type " + c.keyType : "") + (c.paramsText ? " · " + c.paramsText : ""),
      ),
      switcher("case", i, t, function (k) {
        const x = resultAt(k, i),
          o = x ? x.outcome : "not-run";
        return { cls: "o-" + o, text: LABEL[o] };
      }),
    ]);
    if (!r) {
      add(body, [
        h("div", { class: "badge o-not-run" }, "not run"),
        h(
          "p",
          null,
          "This case is not in the report of " +
            tokenName(t) +
            ": that run had suites " +
            tok.suites.join(", ") +
            (tok.filter ? ' and filter "' + tok.filter + '"' : "") +
            (tok.status !== "complete" ? ", and its status is " + tok.status : "") +
            ".",
        ),
      ]);
    } else caseEvidence(body, c, r, tok);
    panel.hidden = false;
    history.replaceState(null, "", "#case=" + encodeURIComponent(c.id) + "&t=" + t);
  }

  /** @param {HTMLElement} box @param {PageCase} c @param {PageResult} r @param {PageToken} tok */
  function caseEvidence(box, c, r, tok) {
    const kv = h("dl", { class: "kv" });
    /** @param {string} k @param {Kid} v */
    function row(k, v) {
      if (v === undefined || v === null || v === "") return;
      kv.append(h("dt", null, k), h("dd", null, v));
    }
    row(
      "Token",
      tokenName(D.tokens.indexOf(tok)) +
        " · " +
        tok.model +
        " · library " +
        tok.library.description +
        " " +
        tok.library.version,
    );
    row("Function", r.function ? h("code", null, r.function) : null);
    row("CK_RV", r.ckrText ? h("code", null, r.ckrText) : null);
    row("Message", h("span", { class: "msg" }, r.message));
    row("Attribute", r.attribute ? h("code", null, r.attribute) : null);
    row("Mechanism", r.mechanism ? h("code", null, r.mechanism) : null);
    if (r.uses && r.uses.length)
      row(
        "Uses",
        r.uses.map(function (u, k) {
          return [
            k ? ", " : "",
            h("code", null, u.mechanism),
            " " + u.op + (u.keySize !== undefined ? " (" + u.keySize + ")" : ""),
          ];
        }),
      );
    row(
      "Time",
      r.durationMs +
        " ms (" +
        r.pkcs11Ms +
        " ms in " +
        r.calls +
        " PKCS#11 calls)" +
        (r.keysGenerated ? ", " + r.keysGenerated + " key(s) generated" : ""),
    );
    add(box, [h("div", { class: "badge o-" + r.outcome }, LABEL[r.outcome]), kv]);

    const d = r.diagnosis;
    if (d) {
      const diag = h("div", { class: "diag" }, h("p", { style: "margin:0 0 4px" }, d.summary));
      if (d.culprits.length) {
        const tb = h("tbody");
        d.culprits.forEach(function (x) {
          const instead = [];
          if (x.accepted.length) instead.push("accepted: " + x.accepted.join(", "));
          if (x.rejected.length) instead.push("also rejected: " + x.rejected.join(", "));
          if (x.conflictsWith)
            instead.push(
              "conflicts with " + x.conflictsWith + (x.resolvedBy ? " (accepted with " + x.resolvedBy + ")" : ""),
            );
          tb.append(
            h(
              "tr",
              null,
              h(
                "td",
                null,
                h("code", null, x.attribute),
                h("small", null, x.template === "template" ? "in the template" : "in the " + x.template + " template"),
              ),
              h("td", null, x.kind, x.ckrText ? h("small", null, x.ckrText) : null),
              h("td", null, x.value),
              h("td", null, instead.join("; ")),
            ),
          );
        });
        diag.append(
          h(
            "table",
            { class: "grid" },
            h(
              "thead",
              null,
              h(
                "tr",
                null,
                ["culprit", "problem", "value", "instead"].map(function (s) {
                  return h("th", null, s);
                }),
              ),
            ),
            tb,
          ),
        );
      }
      if (d.missing.length)
        diag.append(
          h(
            "p",
            null,
            "Missing: ",
            d.missing.map(function (m, k) {
              return [
                k ? "; " : "",
                h("code", null, m.attribute),
                " in the " + m.template + " template (completes it with " + m.value + ")",
              ];
            }),
          ),
        );
      diag.append(
        h(
          "p",
          { class: "muted", style: "margin:4px 0 0" },
          d.calls + " of " + d.budget + " extra calls" + (d.exhausted ? ", budget exhausted" : ""),
        ),
      );
      add(box, [h("h3", null, "Diagnosis"), diag]);
    }
    if (r.verified && r.verified.length)
      add(box, [
        h("h3", null, "Verified"),
        h(
          "ul",
          null,
          r.verified.map(function (v) {
            return h("li", null, v);
          }),
        ),
      ]);
    if (r.trace && r.trace.length) {
      add(box, [
        h("h3", null, "Call trace (" + r.trace.length + " calls)"),
        h(
          "ol",
          { class: "trace" },
          r.trace.map(function (e) {
            return h(
              "li",
              { class: e.rv === "CKR_OK" ? "" : "bad" },
              h("div", { class: "line" }, h("code", null, e.fn), " → " + e.rv + " · " + e.ms + " ms"),
              e.args ? h("pre", { class: "args" }, fmtArgs(e.args)) : null,
            );
          }),
        ),
      ]);
    } else if (r.outcome !== "pass")
      add(box, [
        h("h3", null, "Call trace"),
        h("p", { class: "muted" }, "not kept in this report (run with --trace failed or all)"),
      ]);
    if (tok.source)
      add(
        box,
        h(
          "p",
          { class: "hint" },
          "In full: ",
          h("code", null, "p11compat explain " + shell(tok.source) + " " + shell(c.id)),
        ),
      );
  }
  /** @param {Record<string, unknown>} a */
  function fmtArgs(a) {
    return Object.keys(a)
      .map(function (k) {
        return k + ": " + fmtValue(a[k]);
      })
      .join("\n");
  }
  /** @param {unknown} v @returns {string} */
  function fmtValue(v) {
    if (
      Array.isArray(v) &&
      v.every(function (x) {
        return x && typeof x === "object" && "name" in x && "value" in x;
      })
    ) {
      return v
        .map(function (x) {
          return x.name + "=" + x.value;
        })
        .join(", ");
    }
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const o = /** @type {Record<string, unknown>} */ (v),
        keys = Object.keys(o);
      if (keys.length === 1 && keys[0] === "name") return String(o.name);
      return (
        "{ " +
        keys
          .map(function (k) {
            return k + ": " + fmtValue(o[k]);
          })
          .join(", ") +
        " }"
      );
    }
    return typeof v === "string" ? v : JSON.stringify(v);
  }

  /** @type {Outcome[]} */
  const SUMMARY_ORDER = ["pass", "fail", "error", "unsupported", "skipped"];
  /** @type {Outcome[]} */
  const LIST_ORDER = ["fail", "error", "unsupported", "skipped", "pass"];
  /** @param {number} i @param {number} t */
  function openMech(i, t) {
    const m = at(D.mechs, i),
      cell = at(m.cells, t),
      a = cell.advertised;
    select(cellAt("mechs", i, t));
    body.replaceChildren();
    add(body, [
      h("h2", { id: "panel-title" }, m.name),
      h("p", { class: "sub" }, m.keyType ? "key type " + m.keyType : "no key"),
      switcher("mech", i, t, function (k) {
        const s = at(m.cells, k).status;
        return { cls: "s-" + s, text: D.statusLabel[s] };
      }),
      h("div", { class: "badge s-" + cell.status }, D.statusLabel[cell.status]),
    ]);
    const kv = h("dl", { class: "kv" });
    /** @param {string} k @param {Kid} v */
    function row(k, v) {
      kv.append(h("dt", null, k), h("dd", null, v));
    }
    row("Advertised", a ? "yes (C_GetMechanismList), code " + a.codeText : "no");
    if (a) {
      row("Key sizes", a.minKeySize || a.maxKeySize ? a.minKeySize + " to " + a.maxKeySize : "no range given");
      row("Flags", (cell.flags.length ? cell.flags.join(", ") : "none") + " (" + a.flagsText + ")");
      if (a.unstable && a.unstable.length) row("Unstable", a.unstable.join(", ") + " changed between two queries");
    }
    if (cell.keySizes.length) row("Generated", "key sizes " + cell.keySizes.join(", "));
    add(body, kv);
    if (cell.findings.length)
      add(body, [
        h("h3", null, "Advertised versus actual"),
        h(
          "ul",
          null,
          cell.findings.map(function (f) {
            return h("li", null, h("b", null, f.kind), ": " + f.detail);
          }),
        ),
      ]);
    const ops = Object.keys(cell.ops);
    add(body, h("h3", null, "Operations in the cases"));
    if (!ops.length) add(body, h("p", { class: "muted" }, "No case on this token gave the token this mechanism."));
    ops.forEach(function (op) {
      const tally = cell.ops[op];
      if (!tally) return;
      add(
        body,
        h(
          "p",
          { style: "margin:8px 0 2px" },
          h("b", null, op),
          " · " +
            SUMMARY_ORDER.filter(function (o) {
              return tally[o].length;
            })
              .map(function (o) {
                return tally[o].length + " " + (o === "pass" ? "worked" : o);
              })
              .join(", "),
        ),
      );
      const list = h("ul", { class: "caselist" });
      LIST_ORDER.forEach(function (o) {
        tally[o].slice(0, o === "pass" ? 8 : 30).forEach(function (ci) {
          list.append(
            h(
              "li",
              null,
              h("span", { class: "badge o-" + o, style: "font-size:11px;padding:0 5px;margin:0 6px 0 0" }, LABEL[o]),
              h(
                "a",
                {
                  tabindex: "0",
                  onclick: function () {
                    openCase(ci, t);
                  },
                },
                at(D.cases, ci).id,
              ),
            ),
          );
        });
        const more = tally[o].length - (o === "pass" ? 8 : 30);
        if (more > 0) list.append(h("li", { class: "muted" }, "and " + more + " more " + LABEL[o]));
      });
      add(body, list);
    });
    panel.hidden = false;
    history.replaceState(null, "", "#mech=" + encodeURIComponent(m.name) + "&t=" + t);
  }

  /** @param {Event} e */
  function onCell(e) {
    const td = e.target instanceof Element ? e.target.closest("td.c, td.m") : null;
    if (!td || !td.parentElement) return;
    const i = +(td.parentElement.getAttribute("data-i") || ""),
      t = +(td.getAttribute("data-t") || "");
    if (td.classList.contains("c")) openCase(i, t);
    else openMech(i, t);
  }
  ["#cases", "#mechs"].forEach(function (sel) {
    const tb = el(sel + " tbody");
    tb.addEventListener("click", onCell);
    tb.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        onCell(e);
      }
    });
  });

  // ----- deep links: #case=ID&t=N or #mech=NAME&t=N
  function fromHash() {
    /** @type {Record<string, string>} */
    const p = {};
    location.hash
      .slice(1)
      .split("&")
      .forEach(function (kv) {
        const j = kv.indexOf("=");
        if (j > 0) p[kv.slice(0, j)] = decodeURIComponent(kv.slice(j + 1));
      });
    const t = Math.min(Math.max(Number(p.t) || 0, 0), T - 1);
    if (p.case !== undefined) {
      const ci = D.cases.findIndex(function (c) {
        return c.id === p.case;
      });
      if (ci >= 0) {
        openCase(ci, t);
        const td = cellAt("cases", ci, t);
        if (td) td.scrollIntoView({ block: "center" });
      }
    }
    if (p.mech !== undefined) {
      const mi = D.mechs.findIndex(function (m) {
        return m.name === p.mech;
      });
      if (mi >= 0) {
        setView("mechs");
        openMech(mi, t);
      }
    }
  }
  apply();
  fromHash();
})();
