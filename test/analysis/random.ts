/** The demo data's seeded PRNG, so randomised tests and benches are reproducible. */
export { mulberry32 } from '../../data/random.ts';
