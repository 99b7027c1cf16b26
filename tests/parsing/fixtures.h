// Small, realistic source files in every language astfill parses: the
// extraction tests assert on them exactly, and the randomised edit and
// bad-input tests start from them.
#pragma once

#include <string_view>
#include <utility>

namespace astfill::parsing::fixtures {

inline constexpr std::string_view python = R"py("""Stacks and sums."""
import os.path, sys as system
from . import sibling
from ..pkg.mod import join, split as sp
from typing import *

MAX_DEPTH = 10
cache = {}


class Stack(Base):
    """A LIFO stack.

    Push and pop.
    """
    limit: int = 5
    count = 0

    def push(self, item) -> None:
        self.items.append(item)

    @property
    def top(self):
        return self.items[-1]


def add(a, b) -> int:
    '''Add two numbers.'''
    def inner():
        pass
    return helper(a) + os.path.join(b)
)py";

inline constexpr std::string_view javascript = R"js(import React, { useState } from 'react';
import * as util from "./util.js";
export { helper } from '../helpers';
const path = require("path");

/**
 * Counts things.
 * @param {number} n
 */
export function count(n) {
  return path.join(n);
}

// A widget.
class Widget extends React.Component {
  size = 3;
  render() {
    const local = () => 1;
    return new Thing(this.size);
  }
}

const square = (x) => x * x;
let mutable = 1;
)js";

inline constexpr std::string_view typescript = R"ts(import fs from 'fs';
import { join, dirname as dn } from "./util/path";
export * from './all';

/** Maximum depth. */
export const MAX_DEPTH = 10;

/**
 * A LIFO stack.
 */
export class Stack<T> extends Base implements Sized {
  private items: T[] = [];
  // Push one item.
  push(item: T): void {
    this.items.push(item);
  }
}

interface Shape {
  area(): number;
  name: string;
}
type Id = string | number;
enum Color { Red, Green = 2 }
namespace Geometry {
  export function area(s: Shape): number { return s.area(); }
}

export function add(a: number, b: number): number {
  return helper(a) + b;
}
)ts";

inline constexpr std::string_view tsx = R"tsx(import React from 'react';

// A greeting.
export function Hello(props: { name: string }) {
  return <div className="hello">Hello, {props.name}!</div>;
}

export const Empty = () => <></>;
)tsx";

inline constexpr std::string_view c = R"c(#include "stack.h"
#include <stdlib.h>

#define MAX_DEPTH 10

/** A fixed-size stack. */
struct stack {
  int items[MAX_DEPTH];
  int count;
};

typedef struct stack stack_t;
enum color { RED, GREEN };

// Pushes one item.
// Returns 0 when full.
int stack_push(struct stack *s, int item);

static int *make(void) { return malloc(sizeof(int)); }

const int limit = 5; // trailing comment, not a doc
int stack_push(struct stack *s, int item) {
  if (s->count == MAX_DEPTH) return 0;
  s->items[s->count++] = item;
  return helper(item);
}
)c";

inline constexpr std::string_view cpp = R"cpp(#include "stack.h"
#include <vector>

namespace geo {
/// A LIFO stack.
template <typename T>
class Stack : public Base {
 public:
  // Push one item.
  void push(const T& item);
  int size() const { return count_; }

 private:
  int count_ = 0;
  std::vector<T> items_;
};

enum class Color { Red, Green };
using Id = long;
struct Point { int x, y; };
}  // namespace geo

/** Adds two ints. */
int add(int a, int b) { return helper(a) + b; }

template <typename T>
void geo::Stack<T>::push(const T& item) {
  items_.push_back(item);
  ++count_;
}
)cpp";

inline constexpr std::string_view go = R"go(package stack

import (
	"fmt"
	str "strings"
)

// MaxDepth bounds recursion.
const MaxDepth = 10

var cache = map[string]int{}

// Stack is a LIFO stack.
// It is not safe for concurrent use.
type Stack struct {
	items []int
	Count int
}

type Shape interface {
	Area() float64
}

type ID = string

// Push adds v.
func (s *Stack) Push(v int) {
	s.items = append(s.items, v)
	fmt.Println(str.ToUpper("x"))
}

func Add(a, b int) int { return helper(a) + b }
)go";

inline constexpr std::string_view rust = R"rs(use std::collections::{HashMap, HashSet};
use crate::util::helper;
use super::*;
mod tests;

/// A LIFO stack.
#[derive(Debug)]
pub struct Stack<T> {
    items: Vec<T>,
}

// Not a doc comment.
pub trait Shape {
    fn area(&self) -> f64;
}

impl<T> Stack<T> {
    /// Pushes one item.
    pub fn push(&mut self, item: T) {
        self.items.push(item);
        helper(1);
    }
}

pub enum Color {
    Red,
    Green(u8),
}

pub type Id = u64;
const MAX_DEPTH: usize = 10;

mod geo {
    pub fn area() -> f64 {
        0.0
    }
}
)rs";

inline constexpr std::string_view java = R"java(package com.example;

import java.util.List;
import java.util.*;
import static java.lang.Math.max;

/** A LIFO stack. */
public class Stack<T> extends Base implements Sized {
    /** The limit. */
    public static final int LIMIT = 10;
    private List<T> items;

    public Stack() {
        items = new ArrayList<>();
    }

    // Pushes one item.
    public void push(T item) {
        items.add(item);
        helper(item);
    }

    enum Color { RED, GREEN }

    interface Visitor {
        void visit(T item);
    }
}
)java";

// (languageId, source) for every grammar.
inline constexpr std::pair<std::string_view, std::string_view> all[] = {
    {"python", python}, {"javascript", javascript}, {"typescript", typescript},
    {"typescriptreact", tsx}, {"c", c}, {"cpp", cpp},
    {"go", go}, {"rust", rust}, {"java", java},
};

}  // namespace astfill::parsing::fixtures
