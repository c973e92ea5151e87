import type { EChartsCoreOption } from 'echarts/core';
import { useEffect, useRef } from 'react';

type Props = { option: EChartsCoreOption; height?: number; label: string };

/** An ECharts chart, loaded lazily, resized with its box; `label` describes it to screen readers. */
export function Chart({ option, height = 260, label }: Props) {
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<{ setOption(option: EChartsCoreOption, notMerge: boolean): void; dispose(): void; resize(): void }>(null);

  useEffect(() => {
    let disposed = false;
    let observer: ResizeObserver | undefined;
    void import('./echarts').then(({ echarts }) => {
      if (disposed || !element.current) return;
      const instance = echarts.init(element.current, undefined, { renderer: 'svg' });
      chart.current = instance;
      instance.setOption(option, true);
      observer = new ResizeObserver(() => instance.resize());
      observer.observe(element.current);
    });
    return () => {
      disposed = true;
      observer?.disconnect();
      chart.current?.dispose();
      chart.current = null;
    };
    // The chart is made once; later option changes go through setOption below.
  }, []);

  useEffect(() => {
    chart.current?.setOption(option, true);
  }, [option]);

  return <div ref={element} className="chart" style={{ height }} role="img" aria-label={label} />;
}
