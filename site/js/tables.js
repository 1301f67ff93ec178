/**
 * DSFR tables that are wider than the screen scroll inside their frame (.fr-table__container). A frame that scrolls
 * becomes a named region that takes the keyboard focus, so that the arrow keys scroll it (WCAG 2.1.1; axe's
 * scrollable-region-focusable); a frame that fits stays out of the tab order. Loaded by every page (site-src/layout.html).
 */
function update(container) {
  const scrolls = container.scrollWidth > container.clientWidth + 1;
  if (scrolls && !container.hasAttribute("tabindex")) {
    const caption = container.querySelector("caption")?.textContent.trim();
    container.setAttribute("tabindex", "0");
    container.setAttribute("role", "region");
    container.setAttribute("aria-label", `${caption || "Tableau"} (défilement horizontal)`);
  } else if (!scrolls && container.getAttribute("role") === "region") {
    container.removeAttribute("tabindex");
    container.removeAttribute("role");
    container.removeAttribute("aria-label");
  }
}

const observer = new ResizeObserver((entries) => {
  for (const entry of entries) {
    const container = entry.target.closest(".fr-table__container");
    if (container) update(container);
  }
});

for (const container of document.querySelectorAll(".fr-table__container")) {
  observer.observe(container);
  const table = container.querySelector("table");
  if (table) observer.observe(table); // rows added by the page's script widen the table, not the frame
}
