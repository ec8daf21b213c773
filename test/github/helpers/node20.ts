/**
 * nock 15.0.2 depends on @mswjs/interceptors ^0.44, whose socket interceptor calls Promise.withResolvers (Node
 * 22+) on every TCP connection once nock is loaded: on Node 20 every Redis and Postgres connection of the test
 * process would fail. Import this module before nock in any test that uses it.
 */
type WithResolvers = <T>() => { promise: Promise<T>; resolve: (value: T) => void; reject: (reason?: unknown) => void };

const P = Promise as unknown as { withResolvers?: WithResolvers };
if (typeof P.withResolvers !== "function") {
  P.withResolvers = <T>() => {
    let resolve!: (value: T) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
