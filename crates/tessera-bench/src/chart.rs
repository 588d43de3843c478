//! The chart: one panel per array and cache state, decoded GB/s (log scale) per workload, one bar per
//! backend.

use std::path::Path;

use plotters::prelude::*;

use crate::backend::Backend;
use crate::error::{BenchError, BenchResult};
use crate::report::{Record, mmap_peer};
use crate::workload::{Cache, Workload};

const BACKENDS: [Backend; 8] = [
    Backend::Mmap,
    Backend::Tessera,
    Backend::TesseraCache,
    Backend::Zarrs,
    Backend::Tensorstore,
    Backend::ZarrPython,
    Backend::H5py,
    Backend::TesseraPython,
];

fn color(b: Backend) -> RGBColor {
    match b {
        Backend::Mmap => RGBColor(150, 150, 150),
        Backend::Tessera => RGBColor(214, 39, 40),
        Backend::TesseraCache => RGBColor(255, 152, 150),
        Backend::Zarrs => RGBColor(31, 119, 180),
        Backend::Tensorstore => RGBColor(44, 160, 44),
        Backend::ZarrPython => RGBColor(255, 127, 14),
        Backend::H5py => RGBColor(148, 103, 189),
        Backend::TesseraPython => RGBColor(140, 86, 75),
    }
}

fn chart_err(e: impl std::fmt::Display) -> BenchError {
    BenchError::Chart(e.to_string())
}

/// Draws the chart of `records` as SVG into `path`.
///
/// # Errors
/// [`BenchError::Chart`] when drawing or writing fails.
pub fn draw(records: &[Record], title: &str, path: &Path) -> BenchResult<()> {
    let mut arrays: Vec<String> = Vec::new();
    for r in records.iter().filter(|r| r.backend != Backend::Mmap) {
        if !arrays.contains(&r.array) {
            arrays.push(r.array.clone());
        }
    }
    let mut workloads: Vec<Workload> = records.iter().map(|r| r.workload).collect();
    workloads.sort();
    workloads.dedup();
    let caches = [Cache::Cold, Cache::Warm];
    if arrays.is_empty() || workloads.is_empty() {
        return Err(BenchError::Chart("no measurements to draw".into()));
    }
    let rows = arrays.len();
    let root = SVGBackend::new(path, (1400, 80 + 300 * rows as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(chart_err)?;
    let root = root.titled(title, ("sans-serif", 22)).map_err(chart_err)?;
    let (legend, body) = root.split_vertically(30);
    for (i, b) in BACKENDS.iter().enumerate() {
        let x = 20 + 170 * i as i32;
        legend
            .draw(&Rectangle::new([(x, 8), (x + 18, 24)], color(*b).filled()))
            .map_err(chart_err)?;
        legend
            .draw(&Text::new(b.name(), (x + 24, 10), ("sans-serif", 15)))
            .map_err(chart_err)?;
    }
    let panels = body.split_evenly((rows, caches.len()));
    // Bars rise from `base`; the workload names sit below it, inside the plot.
    let (lo, base, hi) = (2e-4f64, 1e-3f64, 100f64);
    let n = workloads.len();
    for (p, panel) in panels.iter().enumerate() {
        let array = &arrays[p / caches.len()];
        let cache = caches[p % caches.len()];
        let mut chart = ChartBuilder::on(panel)
            .caption(format!("{array}, {}", cache.name()), ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..n as f64, (lo..hi).log_scale())
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc("GB/s")
            .label_style(("sans-serif", 11))
            .draw()
            .map_err(chart_err)?;
        chart
            .draw_series(workloads.iter().enumerate().map(|(wi, w)| {
                Text::new(
                    w.name(),
                    (wi as f64 + 0.1, lo * 2.5),
                    ("sans-serif", 11).into_font(),
                )
            }))
            .map_err(chart_err)?;
        for (wi, &w) in workloads.iter().enumerate() {
            let tessera = records.iter().find(|r| {
                r.backend == Backend::Tessera
                    && &r.array == array
                    && r.workload == w
                    && r.cache == cache
            });
            for (bi, &b) in BACKENDS.iter().enumerate() {
                let r = match b {
                    Backend::Mmap => tessera.and_then(|t| mmap_peer(records, t)),
                    _ => records.iter().find(|r| {
                        r.backend == b && &r.array == array && r.workload == w && r.cache == cache
                    }),
                };
                let Some(r) = r else { continue };
                let width = 0.8 / BACKENDS.len() as f64;
                let x0 = wi as f64 + 0.1 + bi as f64 * width;
                let v = r.gbps().clamp(base, hi);
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x0, base), (x0 + width * 0.9, v)],
                        color(b).filled(),
                    )))
                    .map_err(chart_err)?;
            }
        }
    }
    root.present().map_err(chart_err)?;
    Ok(())
}
