/**
 * The installed-app sign-in's two waits: a loopback listener on
 * `127.0.0.1:<random port>` that receives Google's redirect, and, for a
 * browser on another machine, the redirected address pasted on stdin.
 * Whichever brings an answer first wins; the listener is always closed.
 * @module
 */
import { SyftError } from "../core/errors/mod.ts";
import { pastedRedirect } from "../core/auth/google_oauth.ts";

/** A sign-in answer (the redirect's query) and where it came from. */
export interface RedirectAnswer {
  params: URLSearchParams;
  via: "loopback" | "stdin";
}

/** The listener, its redirect URI, and the wait for its answer. */
export interface LoopbackListener {
  /** `http://127.0.0.1:<port>` (Google's documented loopback form, no path). */
  redirectUri: string;
  /** Resolves with the first answer from the listener or stdin. */
  answer(options: { readStdin: boolean; timeoutMs: number }): Promise<RedirectAnswer>;
  close(): Promise<void>;
}

const PAGE_DONE = "Signed in: you may close this tab and return to syft.\n";
const PAGE_REFUSED =
  "syft did not get a sign-in from this answer: see the terminal. Nothing was stored.\n";

/**
 * Listen on a random loopback port. Requests that carry no `state` (a
 * favicon, a stray probe) are answered 404 and ignored; the first one with a
 * state is the answer, whether it matches or not (the caller checks it).
 */
export function listenForRedirect(expectedState: string, port = 0): LoopbackListener {
  const got = Promise.withResolvers<RedirectAnswer>();
  let settled = false;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen: () => {} },
    (req) => {
      const url = new URL(req.url);
      if (req.method !== "GET" || !url.searchParams.has("state") || settled) {
        return new Response("Not Found\n", { status: 404 });
      }
      settled = true;
      got.resolve({ params: url.searchParams, via: "loopback" });
      const ok = url.searchParams.get("state") === expectedState &&
        url.searchParams.has("code");
      return new Response(ok ? PAGE_DONE : PAGE_REFUSED, {
        status: ok ? 200 : 400,
        // The listener closes right after: a browser's keep-alive must not hold it open.
        headers: {
          "content-type": "text/plain; charset=utf-8",
          "cache-control": "no-store",
          connection: "close",
        },
      });
    },
  );
  const redirectUri = `http://127.0.0.1:${server.addr.port}`;
  return {
    redirectUri,
    async answer({ readStdin, timeoutMs }) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() =>
          reject(
            new SyftError(
              "E_INPUT",
              `no sign-in answer within ${Math.round(timeoutMs / 60_000)} minutes`,
              { hint: "run `syft auth gdrive` again and finish the sign-in in the browser" },
            ),
          ), timeoutMs);
      });
      const waits: Promise<RedirectAnswer>[] = [got.promise, timeout];
      const stdin = readStdin ? pastedAnswer() : null;
      if (stdin) waits.push(stdin.answer);
      try {
        const answer = await Promise.race(waits);
        settled = true;
        return answer;
      } finally {
        clearTimeout(timer);
        await stdin?.stop();
      }
    },
    async close() {
      await server.shutdown();
    },
  };
}

/**
 * Lines from stdin until one is a redirect address. At the end of stdin
 * (none, or a closed pipe) it simply never answers: the listener may still.
 */
function pastedAnswer(): { answer: Promise<RedirectAnswer>; stop(): Promise<void> } {
  const reader = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
  const answer = (async (): Promise<RedirectAnswer> => {
    let buffered = "";
    for (;;) {
      let chunk: ReadableStreamReadResult<string>;
      try {
        chunk = await reader.read();
      } catch {
        return await new Promise<never>(() => {});
      }
      if (chunk.done) return await new Promise<never>(() => {});
      buffered += chunk.value;
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const params = pastedRedirect(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        if (params) return { params, via: "stdin" };
      }
      if (buffered.length > 64 * 1024) buffered = ""; // not an address: drop it
    }
  })();
  return {
    answer,
    async stop() {
      await reader.cancel().catch(() => {});
    },
  };
}

/**
 * Open `url` in the user's browser (`open` on macOS, `xdg-open` elsewhere).
 * False when there is no opener or it failed: the caller then prints the URL.
 */
export async function openBrowser(url: string): Promise<boolean> {
  const opener = Deno.build.os === "darwin" ? "open" : "xdg-open";
  if (Deno.build.os !== "darwin" && !Deno.env.get("DISPLAY") && !Deno.env.get("WAYLAND_DISPLAY")) {
    return false; // no graphical session: xdg-open would start a text browser in our terminal
  }
  try {
    const child = new Deno.Command(opener, {
      args: [url],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const status = await child.status;
    return status.success;
  } catch {
    return false;
  }
}
