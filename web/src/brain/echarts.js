// Apache ECharts for the brain's pages: only the charts and components they use (tree-shaken
// by Vite), the big-screen dark theme, and a helper that sizes a chart with its box.
import * as echarts from 'echarts/core';
import { LineChart, BarChart, BoxplotChart, MapChart, ScatterChart } from 'echarts/charts';
import {
  GridComponent, TooltipComponent, LegendComponent, VisualMapComponent, GeoComponent, TitleComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([LineChart, BarChart, BoxplotChart, MapChart, ScatterChart, GridComponent, TooltipComponent,
  LegendComponent, VisualMapComponent, GeoComponent, TitleComponent, CanvasRenderer]);

/* The palette of Chinese bureau big screens: cyan and blue on a deep navy background, amber and
 * red kept for what needs attention. */
export const PALETTE = ['#22d3ee', '#3b82f6', '#a78bfa', '#34d399', '#fbbf24', '#f472b6', '#60a5fa', '#f87171'];

echarts.registerTheme('eb-dark', {
  color: PALETTE,
  backgroundColor: 'transparent',
  textStyle: { color: '#cbd5e1', fontFamily: '"Noto Sans CJK SC", "Microsoft YaHei", sans-serif' },
  title: { textStyle: { color: '#e2e8f0' } },
  legend: { textStyle: { color: '#94a3b8' } },
  categoryAxis: {
    axisLine: { lineStyle: { color: '#334155' } }, axisLabel: { color: '#94a3b8' }, splitLine: { show: false },
  },
  valueAxis: {
    axisLine: { lineStyle: { color: '#334155' } }, axisLabel: { color: '#94a3b8' },
    splitLine: { lineStyle: { color: 'rgba(148,163,184,0.12)' } },
  },
  tooltip: { backgroundColor: 'rgba(15,23,42,0.92)', borderColor: '#1e3a5f', textStyle: { color: '#e2e8f0' } },
});

/* A chart in el that follows the element's size (the grid cells change with the window). The
 * returned object has the chart and a dispose() for onBeforeUnmount. */
export function mountChart(el, lang) {
  const chart = echarts.init(el, 'eb-dark', { renderer: 'canvas', locale: lang === 'en' ? 'EN' : 'ZH' });
  const ro = new ResizeObserver(() => chart.resize());
  ro.observe(el);
  return {
    chart,
    dispose() {
      ro.disconnect();
      chart.dispose();
    },
  };
}

export { echarts };
