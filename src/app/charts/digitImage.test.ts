import { JSDOM } from 'jsdom';
import { describe, expect, test } from 'vitest';
import { digitImageSvg } from './digitImage';

describe('digitImageSvg', () => {
  const { document } = new JSDOM('').window;
  const options = { maxValue: 16, size: 40, label: 'digit 7' };

  test('one rect per inked pixel, full ink black, background white', () => {
    const image = Array(64).fill(0);
    image[0] = 16;
    image[9] = 8;
    image[63] = 32; // above maxValue: clamped to full ink
    const svg = digitImageSvg(image, [1, 8, 8], options, document);
    const pixels = [...svg.querySelectorAll('rect.pixel')].map((r) => [r.getAttribute('x'), r.getAttribute('y'), r.getAttribute('fill')]);
    expect(pixels).toEqual([
      ['0', '0', 'rgb(0,0,0)'],
      ['1', '1', 'rgb(128,128,128)'],
      ['7', '7', 'rgb(0,0,0)'],
    ]);
    expect(svg.getAttribute('viewBox')).toBe('0 0 8 8');
    expect(svg.getAttribute('aria-label')).toBe('digit 7');
  });

  test('averages channels', () => {
    const svg = digitImageSvg([16, 0], [2, 1, 1], options, document);
    expect(svg.querySelector('rect.pixel')?.getAttribute('fill')).toBe('rgb(128,128,128)');
  });

  test('matches the snapshot on a seeded image', () => {
    let s = 3;
    const image = Array.from({ length: 64 }, () => ((s = (s * 1103515245 + 12345) % 2 ** 31) % 17));
    expect(digitImageSvg(image, [1, 8, 8], options, document).outerHTML).toMatchSnapshot();
  });
});
