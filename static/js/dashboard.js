/*
 * The charts of the insights dashboard (templates/insights/dashboard.html).
 *
 * The page embeds its data with Django's json_script (a <script type="application/json">
 * block, which is data, not code) and this file draws each <canvas data-chart="key"> from
 * it with Chart.js, so the page runs no inline script and works under a Content-Security-Policy
 * without 'unsafe-inline'. Each chart has a table beside it with the same figures.
 */
(function () {
  "use strict";

  var source = document.getElementById("insights-charts");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  var charts = JSON.parse(source.textContent);
  var reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var numbers = new Intl.NumberFormat(document.documentElement.lang || undefined, {
    maximumFractionDigits: 1,
  });
  // Okabe–Ito colours (distinguishable with the common colour-vision deficiencies), then grey
  // for the series that sums the smaller ones ("Other").
  var palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
    "#000000"];
  var otherColour = "#adb5bd";

  function colour(dataset, index) {
    return dataset.label === "Other" ? otherColour : palette[index % palette.length];
  }

  // An axis says what it counts and in which unit ("Spend (EUR)"), from the page's data.
  function axisTitle(spec, axis) {
    var text = (spec.axes || {})[axis];
    return { display: Boolean(text), text: text || "" };
  }

  function draw(canvas, spec) {
    var datasets = spec.datasets.map(function (dataset, index) {
      return {
        label: dataset.label,
        data: dataset.data,
        backgroundColor: colour(dataset, index),
        borderWidth: 0,
      };
    });
    return new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        // A box with a set height (the spend charts, full width) is filled; elsewhere the
        // chart keeps its proportions, taller on a phone where 2:1 would be a strip.
        maintainAspectRatio: !canvas.parentElement.classList.contains("spend-chart"),
        aspectRatio: canvas.parentElement.clientWidth < 500 ? 1 : 2,
        animation: reduceMotion ? false : { duration: 400 },
        plugins: {
          // Every chart names its series, even a single one ("Average days to decide").
          legend: { display: true, position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (context) {
                return context.dataset.label + ": " + numbers.format(context.parsed.y);
              },
            },
          },
        },
        scales: {
          x: { stacked: spec.stacked, title: axisTitle(spec, "x") },
          y: {
            stacked: spec.stacked,
            title: axisTitle(spec, "y"),
            beginAtZero: true,
            ticks: {
              callback: function (value) {
                return numbers.format(value);
              },
            },
          },
        },
      },
    });
  }

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = charts[canvas.dataset.chart];
    if (spec) {
      draw(canvas, spec);
    }
  });
})();
