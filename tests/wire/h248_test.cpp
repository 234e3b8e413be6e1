// Tests of the h248 binding.
#include <gtest/gtest.h>

#include "wire/codec.hpp"
