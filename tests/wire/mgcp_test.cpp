// Tests of the mgcp binding.
#include <gtest/gtest.h>

#include "wire/codec.hpp"
