
/** Why streaming compilation was not used ("" when it was). */
export declare const fallbackReason: string;
/** Options of {@link registerServiceWorker}. */
export interface ServiceWorkerOptions {
  /** The registration's scope; above the package's directory it needs `Service-Worker-Allowed`. */
  scope?: string;
  /** More URLs (relative to the page) to cache, cache-first, e.g. the page itself. */
  cache?: string[];
}
/** Register sw.js, which caches the .wasm (and `cache`) for offline use. */
export declare function registerServiceWorker(options?: ServiceWorkerOptions): Promise<unknown>;
