// /proc/loadavg and /proc/meminfo parsing for the agent's HostLoad.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "agent/load/LoadSampler.h"

namespace x2gojump {
namespace {

// /proc/meminfo of a Debian 12 VM, abridged.
constexpr const char* kMeminfo =
    "MemTotal:        8131640 kB\n"
    "MemFree:          214316 kB\n"
    "MemAvailable:    6024348 kB\n"
    "Buffers:          299428 kB\n"
    "Cached:          5291196 kB\n"
    "HugePages_Total:       0\n"
    "Hugepagesize:       2048 kB\n";

TEST(LoadSampler, ParsesLoadavg) {
  HostLoad load;
  ASSERT_TRUE(parse_loadavg("0.52 0.58 0.59 1/467 12345\n", &load));
  EXPECT_DOUBLE_EQ(load.load1, 0.52);
  EXPECT_DOUBLE_EQ(load.load5, 0.58);
  EXPECT_DOUBLE_EQ(load.load15, 0.59);
  ASSERT_TRUE(parse_loadavg("123.00 0.00 7", &load));
  EXPECT_DOUBLE_EQ(load.load1, 123.0);
  EXPECT_DOUBLE_EQ(load.load15, 7.0);
}

TEST(LoadSampler, RejectsMalformedLoadavgAndKeepsTheOldValues) {
  for (std::string_view text : {"", "\n", "0.52", "0.52 0.58", "0.52 0.58 x", "-1 0 0", "nan 0 0",
                                "inf 0 0", "0.5a 0 0", "0,52 0.58 0.59", "0x1 0 0"}) {
    HostLoad load;
    load.load1 = 9;
    EXPECT_FALSE(parse_loadavg(text, &load)) << text;
    EXPECT_EQ(load.load1, 9) << text;
  }
}

TEST(LoadSampler, ParsesMeminfo) {
  HostLoad load;
  ASSERT_TRUE(parse_meminfo(kMeminfo, &load));
  EXPECT_EQ(load.mem_total_kb, 8131640u);
  EXPECT_EQ(load.mem_available_kb, 6024348u);
}

TEST(LoadSampler, RejectsMeminfoWithoutBothValues) {
  for (std::string_view text :
       {"", "MemTotal: 1 kB\n", "MemAvailable: 1 kB\n", "MemTotal: x kB\nMemAvailable: 1 kB\n",
        "MemTotal: 1 MB\nMemAvailable: 1 kB\n", "MemTotal: 1\nMemAvailable: 1 kB\n",
        "MemTotal: -1 kB\nMemAvailable: 1 kB\n", "MemTotal: 1 kB extra\nMemAvailable: 1 kB\n",
        "MemTotal 1 kB\nMemAvailable: 1 kB\n",
        "MemTotal: 99999999999999999999 kB\nMemAvailable: 1 kB\n"}) {
    HostLoad load;
    load.mem_total_kb = 5;
    EXPECT_FALSE(parse_meminfo(text, &load)) << text;
    EXPECT_EQ(load.mem_total_kb, 5u) << text;
  }
  HostLoad load;
  // Any order, tabs, no final newline.
  EXPECT_TRUE(parse_meminfo("MemAvailable:\t2 kB\nMemTotal: 3 kB", &load));
  EXPECT_EQ(load.mem_total_kb, 3u);
  EXPECT_EQ(load.mem_available_kb, 2u);
}

TEST(LoadSampler, SamplesADirectoryAndTheRealProc) {
  auto dir =
      std::filesystem::path(::testing::TempDir()) / ("xj-proc-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "loadavg") << "1.50 1.00 0.50 2/100 42\n";
  std::ofstream(dir / "meminfo") << kMeminfo;
  HostLoad load;
  EXPECT_EQ(LoadSampler(dir.string()).sample(&load), "");
  EXPECT_DOUBLE_EQ(load.load1, 1.5);
  EXPECT_EQ(load.mem_available_kb, 6024348u);
  EXPECT_GE(load.cpus, 1);
  std::ofstream(dir / "meminfo") << "garbage\n";
  EXPECT_EQ(LoadSampler(dir.string()).sample(&load), "cannot parse " + (dir / "meminfo").string());
  std::filesystem::remove_all(dir);
  EXPECT_EQ(LoadSampler(dir.string()).sample(&load), "cannot read " + (dir / "loadavg").string());

  HostLoad real;
  EXPECT_EQ(LoadSampler().sample(&real), "");
  EXPECT_GT(real.mem_total_kb, 0u);
  EXPECT_EQ(real.cpus, static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)));
}

}  // namespace
}  // namespace x2gojump
