import { siteJobs } from "../../core/testing/jobs.ts";
import { type MemorySite, MemoryWorld } from "../../core/testing/world.ts";
const world = new MemoryWorld({ fsPerSite: Deno.args[0] === "1" });
const owner = await world.site("owner@hospital.org");
const ds = await world.site("ds@lab.org");
await world.connect(ds, owner);
const view = (site: MemorySite) =>
  new Proxy(site, {
    get: (t, k) => k === "world" ? { fs: site.fs, clock: world.clock } : Reflect.get(t, k),
  });
const key = await siteJobs(view(ds)).submit(owner, { name: "count" });
console.log(ds.files("owner@hospital.org"));
await world.settle();
console.log(owner.rounds.flatMap((r) => r.rejections));
console.log(JSON.stringify(await siteJobs(view(owner)).intake()));
