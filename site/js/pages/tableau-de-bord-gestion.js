// The back office's dashboard (GET /admin/dashboard?scope=&department=&weeks=), for the card maker (national or any
// département) and a préfecture (always its own département): orders and cards per week by status, the delay from
// submission to hand-over (median, 90th percentile, histogram), the rejection rates, the photo assistant's checks on
// the cards sent, the communes without an order and the cards to return. Each chart is drawn by Chart.js
// (vendor/chartjs, window.Chart) and followed by a DSFR table of the same figures, for those who cannot see it.
import { api } from "../api.js";
import { openSpace, showLoadError } from "../espace.js";
import { $, clearErrors, el, formValues, formatDate, formatNumber, onSubmit, showFormError, whileBusy } from "../ui.js";

const form = $("#form-perimetre");
// The DSFR's illustrative colours, one per status, in the lifecycle's order.
const COLOURS = ["#000091", "#e1000f", "#18753c", "#b34000", "#695240", "#6a6af4", "#a558a0", "#009081"];
const charts = {};
let me = null;

const PERCENT = new Intl.NumberFormat("fr-FR", { style: "percent", maximumFractionDigits: 1 });
const days = (n) => (n === null || n === undefined ? "—" : `${formatNumber(n)} jour${n > 1 ? "s" : ""}`);
const weekLabel = (monday) => `Semaine du ${formatDate(`${monday}T12:00:00Z`)}`;
const SHORT = new Intl.DateTimeFormat("fr-FR", { day: "numeric", month: "short", timeZone: "UTC" });
const shortWeek = (monday) => SHORT.format(new Date(`${monday}T12:00:00Z`));  // the charts' axis; the tables say it all

/** Draw (or redraw) a chart; without Chart.js (blocked, not loaded) the tables alone stay. */
function draw(key, config) {
  charts[key]?.destroy();
  if (!window.Chart) return;
  charts[key] = new window.Chart($(`#graphique-${key}`), {
    ...config,
    options: { responsive: true, maintainAspectRatio: false, animation: false, ...config.options },
  });
}

function fillTable(key, headers, rows) {
  const table = $(`#table-${key}`);
  // A week per row and a status per column: wider than the page on a small screen, so its scrolling box takes the
  // keyboard's focus (WCAG 2.1.1), named by the table's caption.
  const box = $(".fr-table__container", table);
  box.tabIndex = 0;
  box.setAttribute("role", "region");
  box.setAttribute("aria-label", $("caption", table).textContent);
  $("[data-head]", table).replaceChildren(...headers.map((text) => el("th", { scope: "col", text })));
  const body = $("[data-body]", table);
  if (!rows.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: headers.length, text: "Aucune donnée sur la période." })));
    return;
  }
  body.replaceChildren(...rows.map(([head, ...cells]) => el("tr", {}, el("th", { scope: "row", text: head }),
    ...cells.map((text) => el("td", { text })))));
}

function perStatus(key, figures, series, unit) {
  const statuses = figures.statuses;
  draw(key, {
    type: "bar",
    data: {
      labels: figures.weeks.map(shortWeek),
      datasets: statuses.map((s, i) => ({ label: s.label, data: series[s.status], backgroundColor: COLOURS[i % COLOURS.length] })),
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 },
      title: { display: true, text: unit } } } },
  });
  fillTable(key, ["Semaine", ...statuses.map((s) => s.label)],
    figures.weeks.map((week, w) => [weekLabel(week), ...statuses.map((s) => formatNumber(series[s.status][w]))]));
}

function delays(figures) {
  const { histogram, max_days: maxDays } = figures.delay;
  const label = (d) => (d >= maxDays ? `${formatNumber(maxDays)} jours ou plus` : days(d));
  draw("delais", {
    type: "bar",
    data: { labels: histogram.map((h) => label(h.days)),
      datasets: [{ label: "Demandes remises", data: histogram.map((h) => h.orders), backgroundColor: COLOURS[0] }] },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "demandes" } } } },
  });
  fillTable("delais", ["Délai depuis l'envoi", "Demandes remises"],
    histogram.map((h) => [label(h.days), formatNumber(h.orders)]));
}

function rejections(figures) {
  const rows = figures.rejections;
  draw("rejets", {
    type: "bar",
    data: { labels: rows.map((r) => r.label),
      datasets: [{ label: "Taux", data: rows.map((r) => (r.rate === null ? 0 : r.rate * 100)), backgroundColor: COLOURS[1] }] },
    options: { indexAxis: "y", scales: { x: { beginAtZero: true, suggestedMax: 10, title: { display: true, text: "%" } } } },
  });
  fillTable("rejets", ["Motif", "Nombre", "Sur", "Taux"], rows.map((r) => [r.label, formatNumber(r.count),
    `${formatNumber(r.out_of)} ${r.reason === "refused_photos" ? "cartes demandées" : "demandes envoyées"}`,
    r.rate === null ? "—" : PERCENT.format(r.rate)]));
}

function photoChecks(figures) {
  const rows = figures.photo_checks.filter((c) => c.count > 0);
  draw("verifications", {
    type: "bar",
    data: { labels: figures.photo_checks.map((c) => c.label),
      datasets: [{ label: "Cartes", data: figures.photo_checks.map((c) => c.count), backgroundColor: COLOURS[3] }] },
    options: { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "cartes" } } } },
  });
  fillTable("verifications", ["Motif", "Cartes", "Sur", "Part"], rows.map((c) => [c.label, formatNumber(c.count),
    `${formatNumber(c.out_of)} cartes demandées`, c.rate === null ? "—" : PERCENT.format(c.rate)]));
}

/** A département's communes still without an order (GET /admin/communes-without-order; null for the nation: too long
 * a list). */
function communes(list) {
  $("#communes").hidden = list === null;
  if (list === null) return;
  const body = $("#table-communes [data-body]");
  body.replaceChildren(...(list.length ? list.map((c) => el("tr", {}, el("th", { scope: "row", text: c.name }),
    el("td", { text: c.insee_code }), el("td", { text: c.registered ? "Oui" : "Non" })))
    : [el("tr", {}, el("td", { colspan: 3, text: "Toutes les communes ont envoyé une demande." }))]));
}

function show(figures) {
  $("#perimetre").textContent = figures.scope === "national" ? "national"
    : `département ${figures.department_code}`;
  const sum = (list) => list.reduce((a, b) => a + b, 0);
  $("#fait-envoyees").textContent = formatNumber(sum(figures.orders.en_preparation));
  $("#fait-remises").textContent = formatNumber(figures.delay.handed_over);
  $("#fait-mediane").textContent = days(figures.delay.median_days);
  $("#fait-p90").textContent = days(figures.delay.p90_days);
  $("#fait-communes-eligibles").textContent = formatNumber(figures.communes.eligible);
  $("#fait-communes-sans-demande").textContent = formatNumber(figures.communes.without_order);
  $("#fait-a-restituer").textContent = formatNumber(figures.cards_to_return);
  perStatus("demandes", figures, figures.orders, "demandes");
  perStatus("cartes", figures, figures.cards, "cartes");
  delays(figures);
  rejections(figures);
  photoChecks(figures);
}

async function load() {
  clearErrors(form);
  const values = formValues(form);
  const query = new URLSearchParams({ weeks: values.weeks || "12" });
  if (me.role === "manufacturer") {
    query.set("scope", values.scope);
    if (values.scope === "department") query.set("department", (values.department || "").toUpperCase());
  }
  try {
    const figures = await api.get(`/admin/dashboard?${query}`);
    const department = figures.scope === "department"
      ? await api.get(`/admin/communes-without-order?${new URLSearchParams({ department: figures.department_code })}`)
      : null;
    show(figures);
    communes(department === null ? null : department.items);
  } catch (error) {
    showFormError(form, error, { title: "Le tableau de bord n'a pas pu être affiché" });
  }
}

try {
  me = await openSpace(["manufacturer", "prefecture"]);
  if (me.role === "manufacturer") {
    $("#groupe-portee").hidden = false;
    const scope = $("#champ-portee");
    const sync = () => { $("#groupe-departement").hidden = scope.value !== "department"; };
    scope.addEventListener("change", sync);
    sync();
  } else {
    $("#lien-retour").href = "prefecture.html";
  }
  onSubmit(form, () => whileBusy(form, load));
  await load();
} catch (error) {
  showLoadError(error);
}
