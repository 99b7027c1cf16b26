// OpenMP's wait policy, chosen before the runtime starts.
//
// libgomp reads OMP_WAIT_POLICY and GOMP_SPINCOUNT once, when it is loaded,
// before main runs. Unset, its threads spin for a while at every barrier; on
// a machine whose cores are also busy with something else (a build, a browser,
// another model) a spinning thread burns the time slice the thread it waits
// for needs, and decode on 2 threads fell from ~40 to 1-4 tokens/s here
// (bench in README, "OpenMP wait policy"). Passive waiting costs some speed on
// an idle machine and holds up under load; astfill defaults to it.
#pragma once

namespace astfill::support {

// If neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set, sets
// OMP_WAIT_POLICY=PASSIVE and executes the running program again with the same
// arguments (so the runtime sees it); returns only when nothing was to be done
// or the re-execution failed (then the program runs on with the default).
// Call first thing in main, before any thread starts.
void prefer_passive_openmp_wait(char** argv);

// The wait policy in effect for this process, as the user would write it:
// "passive", "active", "spin N" (GOMP_SPINCOUNT) or "default".
const char* openmp_wait_policy();

}  // namespace astfill::support
