// The web page in a real browser: headless Chromium (Debian's `chromium`)
// loads GET / from the scheduler of a running stack, runs the page's script
// (which polls /health) and prints the resulting DOM. The members table must
// list exactly the members the scheduler runs, and follow a replacement.
// Screenshots (desktop and phone size) go to
// <build>/test-output/<suite>.<test>/, which CI keeps. Without Chromium the
// test is skipped with a message.
#include "support/member_checks.hpp"
#include "support/stack.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace etcdmesos::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kChromium = "/usr/bin/chromium";
constexpr auto kRepair = 90s;

// <build>/test-output/<suite>.<test>/ (".real-mesos" added on a real Mesos:
// ctest runs both at once), emptied first.
fs::path test_output_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path dir = fs::path(ETCDMESOS_BIN_DIR).parent_path() / "test-output" /
                       (std::string(info->test_suite_name()) + "." + info->name() +
                        (StackOptions::use_real_mesos() ? ".real-mesos" : ""));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// One run of headless Chromium on `url` with `flags`; its stdout. Each run
// gets a fresh profile under `work` (parallel runs share nothing).
class Browser {
 public:
  explicit Browser(fs::path work) : work_(std::move(work)) {}

  std::string run(const std::string& url, std::vector<std::string> flags) {
    const fs::path dir = work_ / ("chromium-" + std::to_string(++runs_));
    fs::create_directories(dir);
    std::vector<std::string> argv{kChromium, "--headless=new",
                                  // The tests run as root, where Chromium's sandbox cannot start.
                                  "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                  "--no-first-run", "--user-data-dir=" + (dir / "profile").string(),
                                  // Virtual time runs the page's polls (1.5 s apart) at once;
                                  // its requests to the scheduler are real.
                                  "--virtual-time-budget=4000"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back(url);
    ChildProcess chromium(argv, dir);
    const auto status = chromium.wait(90s);
    last_log_ = chromium.stderr_text();
    if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
      ADD_FAILURE() << "chromium on " << url << " did not finish cleanly:\n"
                    << last_log_.substr(0, 4000);
      return {};
    }
    return chromium.stdout_text();
  }

  std::string dom(const std::string& url) { return run(url, {"--dump-dom"}); }

  // A PNG of the page at `width` x `height` CSS pixels.
  bool screenshot(const std::string& url, const fs::path& file, int width, int height) {
    fs::remove(file);
    run(url, {"--screenshot=" + file.string(),
              "--window-size=" + std::to_string(width) + "," + std::to_string(height),
              "--hide-scrollbars"});
    return fs::exists(file) && fs::file_size(file) > 1000;
  }

 private:
  fs::path work_;
  int runs_ = 0;
  std::string last_log_;
};

// The rows of the page's members table, by their data-member attribute.
std::multiset<std::string> member_rows(const std::string& dom) {
  std::multiset<std::string> names;
  static const std::regex kRow(R"re(<tr data-member="([^"]*)")re");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), kRow); it != std::sregex_iterator();
       ++it) {
    names.insert((*it)[1].str());
  }
  return names;
}

std::multiset<std::string> as_multiset(const std::set<std::string>& names) {
  return {names.begin(), names.end()};
}

// Loads the page until its table shows `expected` (the scheduler's view may
// lag the stack's by a health check); returns the last DOM.
std::string page_showing(Browser& browser, const std::string& url,
                         const std::multiset<std::string>& expected) {
  std::string dom;
  for (int attempt = 0; attempt < 5; ++attempt) {
    dom = browser.dom(url);
    if (member_rows(dom) == expected) {
      break;
    }
  }
  return dom;
}

TEST(WebPage, ShowsTheMembersAndFollowsAReplacement) {
  if (access(kChromium, X_OK) != 0) {
    GTEST_SKIP() << kChromium
                 << " is not installed (Debian package chromium, scripts/install-deps): the web "
                    "page is not tested in a browser";
  }
  const fs::path out = test_output_dir();
  StackOptions options;
  options.agents = 4;
  options.scheduler_args = {"-etcd-restart-attempts=0"};
  LocalStack stack(options);
  ASSERT_TRUE(comes_up(stack, 3));
  const std::string url = "http://127.0.0.1:" + std::to_string(stack.admin_port()) + "/";
  Browser browser(stack.work_dir());

  const auto before = stack.members();
  const auto names_before = names_of(before);
  std::string dom = page_showing(browser, url, as_multiset(names_before));
  EXPECT_EQ(member_rows(dom), as_multiset(names_before)) << dom;
  // The script ran and drew the last check, the timeline and the events.
  EXPECT_NE(dom.find(R"(id="verdict" class="pill ok" data-healthy="1")"), std::string::npos) << dom;
  EXPECT_NE(dom.find(R"(<div class="tick")"), std::string::npos) << dom;
  EXPECT_NE(dom.find("</time>launch "), std::string::npos) << dom;
  EXPECT_NE(dom.find(">leader<"), std::string::npos) << dom;
  EXPECT_TRUE(browser.screenshot(url, out / "members-desktop.png", 1280, 900));
  EXPECT_TRUE(browser.screenshot(url, out / "members-phone.png", 390, 844));

  // One member's etcd dies; the scheduler removes it and launches another.
  const std::string victim = str(before[1], "name");
  ASSERT_TRUE(signal_member(before[1], SIGKILL));
  ASSERT_TRUE(wait_until(
      [&] {
        auto now = stack.members();
        return !names_of(now).contains(victim) && stack.healthy_with(3) &&
               etcd_lists_exactly(now, names_of(now));
      },
      kRepair))
      << stack.logs();
  const auto names_after = names_of(stack.members());
  ASSERT_NE(names_after, names_before);

  dom = page_showing(browser, url, as_multiset(names_after));
  const auto rows = member_rows(dom);
  EXPECT_EQ(rows, as_multiset(names_after)) << dom;
  EXPECT_FALSE(rows.contains(victim)) << dom;
  for (const auto& name : names_after) {
    if (!names_before.contains(name)) {
      EXPECT_TRUE(rows.contains(name)) << "the replacement " << name << " is not shown:\n" << dom;
    }
  }
  // The events tell what happened to the victim.
  EXPECT_NE(dom.find(victim + " (task "), std::string::npos) << dom;
  EXPECT_TRUE(browser.screenshot(url, out / "replaced-desktop.png", 1280, 900));
  EXPECT_TRUE(browser.screenshot(url, out / "replaced-phone.png", 390, 844));
}

// JavaScript that waits (up to 15 s) until the page shows the answer to its
// POST to `path`, and gives its text.
std::string answer_to(const std::string& path) {
  return "new Promise((done) => { const start = Date.now(); const look = () => {"
         " const a = document.getElementById('answer');"
         " if ((!a.hidden && a.textContent.startsWith('POST " +
         path +
         ":')) || Date.now() - start > 15000) { done(a.textContent); }"
         " else { setTimeout(look, 100); } }; look(); })";
}

// The buttons, clicked in the browser: the secret typed in goes with the
// request (without it: 401), the server's answer is shown, and nothing is
// left in the browser's storage. The page's own fetch passes the admin
// server's Origin check. POST /reseed on a healthy cluster and POST /backup
// without -backup-dir are refused (409) whatever else the scheduler can do.
TEST(WebPage, TheButtonsSendTheSecretTypedInAndShowTheAnswer) {
  if (access(kChromium, X_OK) != 0 || access("/usr/bin/python3", X_OK) != 0) {
    GTEST_SKIP() << kChromium << " or /usr/bin/python3 is not installed (scripts/install-deps): "
                 << "the web page's buttons are not tested in a browser";
  }
  TempDir secrets("web-page-secret");
  const auto secret_file = secrets.path() / "admin-secret";
  {
    std::ofstream out(secret_file);
    out << "page-test-secret";
  }
  StackOptions options;
  options.scheduler_args = {"-admin-secret-file=" + secret_file.string()};
  LocalStack stack(options);
  ASSERT_TRUE(comes_up(stack, 3));
  const std::string url = "http://127.0.0.1:" + std::to_string(stack.admin_port()) + "/";
  const fs::path profile = stack.work_dir() / "devtools-profile";
  ChildProcess chromium(
      {kChromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
       "--no-first-run", "--user-data-dir=" + profile.string(), "--remote-debugging-port=0",
       "about:blank"},
      stack.work_dir() / "chromium-devtools");
  boost::json::array steps{
      "document.getElementById('backup').click(); 'clicked'",
      answer_to("/backup"),
      "window.confirm = () => true;"
      " document.getElementById('secret').value = 'page-test-secret';"
      " document.getElementById('reseed').click(); 'clicked'",
      answer_to("/reseed"),
      "localStorage.length + '|' + sessionStorage.length + '|' + document.cookie",
  };
  ChildProcess driver(
      {"/usr/bin/python3", std::string(ETCDMESOS_SOURCE_DIR) + "/tests/support/devtools.py",
       profile.string(), url, boost::json::serialize(steps)},
      stack.work_dir() / "devtools-driver");
  const auto status = driver.wait(120s);
  ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << driver.stderr_text() << "\n"
      << chromium.stderr_text().substr(0, 4000);
  const auto values = boost::json::parse(driver.stdout_text()).as_array();
  ASSERT_EQ(values.size(), steps.size()) << driver.stdout_text();
  const std::string without_secret(values[1].as_string());
  EXPECT_TRUE(without_secret.starts_with("POST /backup: 401")) << without_secret;
  const std::string with_secret(values[3].as_string());
  EXPECT_TRUE(with_secret.starts_with("POST /reseed: 409")) << with_secret;
  EXPECT_NE(with_secret.find("reseed refused"), std::string::npos) << with_secret;
  EXPECT_EQ(values[4].as_string(), "0|0|");
  // The scheduler took the request with the secret (and says so among the
  // events); the one without it never reached it.
  const auto events = boost::json::serialize(stack.health().at("events"));
  EXPECT_NE(events.find("operator POST /reseed: reseed refused"), std::string::npos) << events;
  EXPECT_EQ(events.find("operator POST /backup"), std::string::npos) << events;
}

}  // namespace
}  // namespace etcdmesos::testing
