// Tests of the h323 binding.
#include <gtest/gtest.h>

#include "wire/codec.hpp"
