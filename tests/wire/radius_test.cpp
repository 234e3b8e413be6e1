// Tests of the radius binding.
#include <gtest/gtest.h>

#include "wire/codec.hpp"
